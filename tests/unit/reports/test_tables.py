"""A table as the page shows it: figures to two decimals, a dash for no value, text escaped."""

from moderation.reports.tables import Table


def test_a_table_writes_its_cells_as_the_page_shows_them():
    table = Table.of(("Rater", "Points", "Blind ratings", "Flagged"),
                     [("Rater <3>", -0.456, 10, True), ("Rater 4", None, 0, False)])
    assert table.html == (
        '<table>\n<thead><tr><th scope="col">Rater</th><th scope="col">Points</th>'
        '<th scope="col">Blind ratings</th><th scope="col">Flagged</th></tr></thead>\n<tbody>\n'
        "<tr><td>Rater &lt;3&gt;</td><td>-0.46</td><td>10</td><td>True</td></tr>\n"
        "<tr><td>Rater 4</td><td>–</td><td>0</td><td>False</td></tr>\n</tbody>\n</table>")
    assert table.html is table.html     # written once
