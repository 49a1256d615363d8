"""Time and peak memory of rendering PDF pages in the child process, against in-process.

    .venv/bin/python benchmarks/pdf_render.py
    .venv/bin/python benchmarks/pdf_render.py --repeat 9 --strokes 40000

Figures: a normal 3-page letter PDF rendered by render_pdf_pages (a child process each time)
and by the same pypdfium2 code in this process, the refusal of the reported 100 x 14,400 pt
page by the pixel budget, a slow page stopped by a 1 s timeout, and a fast render started while
a slow one runs, with the child processes and with the global lock the code used to have.
Times are medians of --repeat runs. A child's peak memory is its maximum resident set
(getrusage of the children); in-process, the growth of this process's maximum resident set.
"""

import argparse
import resource
import statistics
import threading
import time
from collections.abc import Callable

from moderation.samples import processing, render_worker
from seed_data.pdfs import blank_pdf, slow_pdf, text_pdf


def median_seconds(runs: list[Callable[[], object]], repeat: int) -> list[float]:
    """Each run's median seconds; the runs take turns, so a busy moment slows them alike."""
    times = [[] for _ in runs]
    for _ in range(repeat):
        for run, seconds in zip(runs, times, strict=True):
            started = time.perf_counter()
            run()
            seconds.append(time.perf_counter() - started)
    return [statistics.median(seconds) for seconds in times]


def peak_mib(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def refused(render: Callable[[], object]) -> str:
    try:
        render()
    except processing.SampleFileError as error:
        return str(error)
    raise AssertionError("the render was not refused")


def fast_during_slow(render: Callable[[bytes], object], fast: bytes, slow: bytes
                     ) -> tuple[float, float, list[str]]:
    """Seconds for the fast render started 0.3 s into the slow one, the slow one's seconds,
    and the order they finished in."""
    finished, seconds = [], {}

    def timed(name: str, data: bytes) -> None:
        started = time.perf_counter()
        render(data)
        seconds[name] = time.perf_counter() - started
        finished.append(name)

    slow_thread = threading.Thread(target=timed, args=("slow", slow))
    slow_thread.start()
    time.sleep(0.3)
    timed("fast", fast)
    slow_thread.join()
    return seconds["fast"], seconds["slow"], finished


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--strokes", type=int, default=20_000,
                        help="lines on the slow page (about 0.1-0.25 ms each)")
    args = parser.parse_args()
    width = processing.PAGE_RENDER_WIDTH
    # Three typed letter pages, 40 lines each; the reported 100 x 14,400 pt page.
    letter = text_pdf("Homework should be shorter, because we need to play.", pages=3,
                      lines=40, font_size=11)
    tall, slow = blank_pdf(100, 14_400), slow_pdf(args.strokes)
    print(f"PDF render at {width} px wide; memory limit "
          f"{processing.RENDER_MEMORY_LIMIT // 2**20:,} MB, timeout "
          f"{processing.RENDER_TIMEOUT_SECONDS} s; median of {args.repeat}")

    before_mib = peak_mib(resource.RUSAGE_SELF)
    render_worker.render_pages(letter, width)
    here_mib = peak_mib(resource.RUSAGE_SELF) - before_mib
    processing.render_pdf_pages(letter)
    child_mib = peak_mib(resource.RUSAGE_CHILDREN)  # the largest child so far: this one
    child_s, here_s, refuse_s = median_seconds(
        [lambda: processing.render_pdf_pages(letter),
         lambda: render_worker.render_pages(letter, width),
         lambda: refused(lambda: processing.render_pdf_pages(tall))], args.repeat)
    print(f"{'':<46}{'time':>9}{'peak memory':>16}")
    print(f"{'3 letter pages, child process':<46}{child_s:>7.3f} s"
          f"{child_mib:>9.0f} MiB (child's whole RSS)")
    print(f"{'3 letter pages, in this process (baseline)':<46}{here_s:>7.3f} s"
          f"{here_mib:>9.0f} MiB (growth)")
    print(f"{'  overhead of the child per render':<46}{child_s - here_s:>7.3f} s")
    print(f"{'100 x 14,400 pt page refused by the budget':<46}{refuse_s:>7.3f} s")
    print(f"   \"{refused(lambda: processing.render_pdf_pages(tall))[:70]}...\"")

    started = time.perf_counter()
    message = refused(lambda: processing.render_pdf_pages(slow, timeout=1))
    print(f"{f'slow page ({args.strokes:,} lines), 1 s timeout':<46}"
          f"{time.perf_counter() - started:>7.3f} s  refused: \"{message[:40]}...\"")

    started = time.perf_counter()
    processing.render_pdf_pages(letter)
    fast_alone = time.perf_counter() - started
    print(f"\nA 3-page render started 0.3 s into a slow one ({args.strokes:,} lines); "
          f"alone it takes {fast_alone:.3f} s")
    lock = threading.Lock()

    def under_the_old_lock(data: bytes) -> object:
        with lock:
            return render_worker.render_pages(data, width)

    for name, render in [("child processes (now)", processing.render_pdf_pages),
                         ("one global lock (before)", under_the_old_lock)]:
        fast_s, slow_s, order = fast_during_slow(render, letter, slow)
        print(f"  {name:<26} fast {fast_s:>6.3f} s, slow {slow_s:>6.3f} s, "
              f"finished: {' then '.join(order)}")


if __name__ == "__main__":
    main()
