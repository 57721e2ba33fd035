"""The report's indicators, their bases (for rates) and which may carry targets."""

from __future__ import annotations

STOCK_KEYS = ("teams", "teams_with_decision", "hamlets", "hamlets_covered", "members", "members_trained",
              "households", "working_age")
FLOW_KEYS = ("visits", "households_reached", "people_helped", "digital_citizens")
PARTS = ("month", "ytd", "total")

# Indicators a target may name; what a percent target of each is measured against.
TARGET_INDICATORS = ("teams", "teams_with_decision", "hamlets", "hamlets_covered", "members",
                     "members_trained", "visits", "households_reached", "people_helped", "digital_citizens")
PERCENT_BASE = {
    "teams": "hamlets", "hamlets_covered": "hamlets", "teams_with_decision": "teams",
    "members_trained": "members", "households_reached": "households",
    "people_helped": "working_age", "digital_citizens": "working_age",
}
# Flow indicators whose target counts everything up to the month's end (a person who became a
# "digital citizen" stays one); the other flows count the year to date.
CUMULATIVE_TARGETS = {"digital_citizens"}
