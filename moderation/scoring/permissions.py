"""Who may score in a district's rounds, and who may see the samples a round is made of.

Blind scoring holds only if no rater learns the school of a sample in their queue, or which of
their items are anchor papers. The pages that manage rounds (New round, its preview, a round's
page) are where that would leak: the New round form lists the district's ready samples with
their schools, and because it leaves anchor papers out, anyone who saw that list can tell the
anchors in a later queue by the codes that were missing. So these rules, applied by the views
and services of rounds and nowhere in a template:

1. A rater is a teacher of the district who does not oversee its samples (district-wide coaches
   and district administrators see every sample's school and scores, so cannot score blind):
   can_rate_in(). A coach who is not a teacher there is never a rater.
2. Only someone who can never be a rater in the district sees a round's sample rows (code, task,
   school): sees_sample_list(). A round manager who also teaches in the district, such as a
   teacher at one school who coaches another, gets the round pages without sample rows: the
   New round form shows how many samples the round will take, and a round they open takes every
   candidate sample matching the form's filters (queries.round_sample_page: ready, not an
   anchor, not in another open round), never a hand-picked list. Round pages otherwise show
   counts only, never scores, to everyone. So nobody who has seen a sample list can be in a
   pool, whenever they saw it and whoever opens the round.
3. Whoever opens a round is kept out of its pool: they chose its samples and its design
   (pool_exclusion(), also checked by services.open_round).

Samples and anchor pages outside rounds (moderation.samples.permissions) show school staff only
their own schools' work, and rounds keep every rater off the work and the anchor papers of each
school they teach or coach at, so those pages cannot show a rater their own queue either.
"""

from moderation.accounts.models import Role
from moderation.accounts.permissions import district_ids
from moderation.samples import permissions as sample_permissions

ROUND_ROLES = (Role.COACH, Role.DISTRICT_ADMIN)


def managed_district_ids(user) -> set[int]:
    """Districts whose rounds the user creates and follows: any coach (school-scoped coaches
    included, since a round links every school of the district) and district administrators."""
    return district_ids(user, *ROUND_ROLES)


def can_manage_round(user, scoring_round) -> bool:
    return scoring_round.district_id in managed_district_ids(user)


def teacher_district_ids(user) -> set[int]:
    return district_ids(user, Role.TEACHER)


def can_rate_in(user, district_id: int) -> bool:
    """Rule 1: a teacher of the district who does not oversee its samples."""
    return (district_id in teacher_district_ids(user)
            and district_id not in sample_permissions.oversight_district_ids(user))


def sees_sample_list(user, district_id: int) -> bool:
    """Rule 2: round managers of the district who can never be one of its raters."""
    return district_id in managed_district_ids(user) and not can_rate_in(user, district_id)


def pool_exclusion(user, district_id: int, opened_by) -> str | None:
    """Why `user` cannot be in the pool of a round `opened_by` opens in the district, or None."""
    if district_id not in teacher_district_ids(user):
        return "does not teach in the district"
    if district_id in sample_permissions.oversight_district_ids(user):
        return "oversees the district's samples, so cannot score blind"
    if opened_by is not None and user.id == opened_by.id:
        return "is opening this round, so cannot score in it"
    return None
