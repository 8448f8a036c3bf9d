"""The pipeline, defined once: admit -> person -> unit -> organisation, pure functions over explicit state.

admit (stateless: decode, validate, arrival time, pseudonymise) -> person (keyed by pseudonym) -> unit
(keyed by unit id) -> organisation (one key); `route` says where an admitted event goes. `replay`
(core/monitor.py) runs the steps in one loop; the live agents (streams/agents/) run each behind its own
topic and only move what the steps return. Each step returns one result type (`PersonStep`, `UnitStep`).
What a step counts goes through `Counts`, which replay's tally and the worker's metrics both implement.
"""

from streams.core.stages.admit import Admit, Admitted, Counts, Destination, Route, route
from streams.core.stages.person import PersonInput, PersonStage, PersonStep, person_input, survey_counted
from streams.core.stages.unit import StaffingReport, UnitStage, UnitStep, UnitUpdate, staffing_update

__all__ = ["Admit", "Admitted", "Counts", "Destination", "PersonInput", "PersonStage", "PersonStep", "Route",
           "StaffingReport", "UnitStage", "UnitStep", "UnitUpdate", "person_input", "route", "staffing_update",
           "survey_counted"]
