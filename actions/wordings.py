"""What goals and actions write to people, as message ids (cxplatform.wording; docs/adr/0015)."""

from django.utils.translation import gettext_lazy as _

from cxplatform import wording

from . import kpis

kpi = wording.choice(kpis.choices)

GOAL_OWNER = wording.define(
    "actions.goal_owner", _("%(who)s made you the owner of the goal “%(goal)s”."), who=wording.person,
    goal=wording.text_or_message)
ACTION_GIVEN = wording.define(
    "actions.action_given", _("%(who)s gave you an action: “%(action)s”, due %(due)s."), who=wording.person,
    due=wording.day)
COMMENTED = wording.define(
    "actions.commented", _("%(who)s commented on “%(action)s”."), who=wording.person)
OVERDUE = wording.define(
    "actions.overdue", _("Overdue: “%(action)s” was due %(due)s"), due=wording.day)
DUE_SOON = wording.define(
    "actions.due_soon", _("Due soon: “%(action)s” is due %(due)s"), due=wording.day)

# Generated goal titles: "NPS at Home delivery from 12 to 30 by 31 March 2027"
GOAL_TITLE = wording.define(
    "actions.goal_title", _("%(kpi)s from %(baseline)s to %(target)s by %(deadline)s"), kpi=kpi,
    deadline=wording.long_day)
GOAL_TITLE_AT = wording.define(
    "actions.goal_title_at", _("%(kpi)s at %(place)s from %(baseline)s to %(target)s by %(deadline)s"), kpi=kpi,
    deadline=wording.long_day)
