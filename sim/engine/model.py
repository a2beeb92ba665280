"""PreventionChainModel: the monthly step of the city, one mechanism per line.

    measurement points (school entry, Gymnasium, U9)  -> ageing out at 18 (NEET)
    -> poverty dynamics -> moves -> births -> services, barriers, capacity and the chain
    -> development -> yearly snapshot of indicators -> costs -> DataCollector

Month 0 is January of (start_year - burn_in_years). The burn-in lets every child measured in
the reported years have lived its early childhood inside the model; only reported years enter
the results. A scenario's levers follow its schedule (sim.inputs.levers.LeverSchedule): each January the
levers of that calendar year take effect; before a lever's start year the city is the status quo,
draw for draw.
"""

from __future__ import annotations

import mesa
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from sim.analysis.indicators import Accumulator, GroupIndex
from sim.engine import rng
from sim.engine.agents import Child, Household
from sim.engine.mechanisms.costs import LEVER_LINES, Costs
from sim.engine.mechanisms.demography import Demography
from sim.engine.mechanisms.development import Development
from sim.engine.mechanisms.history import History
from sim.engine.mechanisms.measurement import Measurement
from sim.engine.mechanisms.services import ServiceSystem
from sim.engine.population import CityArrays, Population
from sim.inputs.city import City, load_city
from sim.inputs.levers import Levers, LeverSchedule
from sim.inputs.params import ModelParams, load_params
from sim.inputs.scenario import Scenario, load_scenario
from sim.inputs.services import PAYERS, PUBLIC_PAYERS, Capacity, Catalogue, load_catalogue

MAX_SCALE = 3.0
START_YEAR = 2026  # the first reported year


class PreventionChainModel(mesa.Model):
    """A city's children and families moving through the prevention chain, month by month."""

    def __init__(
        self,
        scenario: Scenario | str | None = "baseline",
        *,
        levers: Levers | None = None,
        city: City | None = None,
        catalogue: Catalogue | None = None,
        params: ModelParams | None = None,
        seed: int = 0,
        scale: float = 1.0,
        years: int = 18,
        burn_in_years: int = 6,
        start_year: int = START_YEAR,
        history: str = "donors",
    ):
        super().__init__(seed=seed)
        if not 0 < scale <= MAX_SCALE:
            raise ValueError(f"scale must lie in (0, {MAX_SCALE}], got {scale}")
        if years < 1 or burn_in_years < 0:
            raise ValueError("years must be >= 1 and burn_in_years >= 0")
        self.scenario = load_scenario(scenario) if isinstance(scenario, str) else scenario
        target = levers or (self.scenario.levers if self.scenario else Levers())
        self.schedule = self.scenario.schedule(target) if self.scenario else LeverSchedule(target)
        self.city = city or load_city()
        self.catalogue = catalogue or load_catalogue(place_columns=set(self.city.table.columns))
        self.params = params or load_params()
        self.seed = int(seed)
        self.scale = float(scale)
        self.years = years
        self.burn_in_years = burn_in_years
        self.start_year = start_year
        self.first_year = start_year - burn_in_years
        self.n_years_total = years + burn_in_years
        self.n_months = 12 * self.n_years_total
        self.t = 0
        self.schedule.check(self.first_year, self.first_year + self.n_years_total - 1,
                            self.scenario.source if self.scenario else "levers")
        self.levers = self.schedule.levers_in(self.first_year)
        self.city_arrays = CityArrays.from_table(self.city.table)
        self.pop = Population(self.city_arrays, self.params, len(self.catalogue), self.seed, self.scale, t0=0,
                              household_unit=np.array([s.unit == "household" for s in self.catalogue.services.values()]))
        # The mechanisms, each a class made from the model with a step(t); `step` below says in
        # which order they run and what each reads and writes.
        self.demography = Demography(self)
        self.services = ServiceSystem(self)
        self.development = Development(self)
        # The city's children at the start arrive with a history that fits their age and family.
        self.history = History(self, history)
        self.history.assign(np.flatnonzero(self.pop.children.alive), 0)
        self.groups = GroupIndex(self.city)
        self.accumulator = Accumulator(self.groups, self.first_year, self.n_years_total)
        self.measurement = Measurement(self)
        self.costs = Costs(self)
        self.flows = {"births": 0, "moved_in": 0, "moved_out": 0, "aged_out": 0}
        self._views: dict[tuple[str, int], mesa.Agent] = {}
        self.datacollector = mesa.DataCollector(model_reporters={
            "Monat": lambda m: m.month_label(m.t),
            "Kinder": lambda m: int(m.pop.children.alive.sum()) / m.scale,
            "Geburten": lambda m: m.flows["births"] / m.scale,
            "Zuzüge (Kinder)": lambda m: m.flows["moved_in"] / m.scale,
            "Fortzüge (Kinder)": lambda m: m.flows["moved_out"] / m.scale,
            "18 geworden": lambda m: m.flows["aged_out"] / m.scale,
            "SGB-II-Quote": lambda m: float(m.child_status_share(2)),
            "U3-Warteliste": lambda m: m.waiting("u3_kita", "kindertagespflege") / m.scale,
            "OGS-Warteliste": lambda m: m.waiting("ogs") / m.scale,
        })

    # ---- calendar ------------------------------------------------------------------------------
    def year(self, t: int) -> int:
        return self.first_year + t // 12

    def month_label(self, t: int) -> str:
        return f"{self.year(t)}-{t % 12 + 1:02d}"

    @property
    def reported_years(self) -> range:
        return range(self.start_year, self.start_year + self.years)

    # ---- the step ------------------------------------------------------------------------------
    def step(self) -> None:
        t, pop = self.t, self.pop
        if t % 12 == 0 and t > 0 and self.schedule.timed:
            self._set_levers(self.schedule.levers_in(self.year(t)))
        self.measurement.before_month(t)  # reads last month's state (school entry, first contacts)
        leaving = self.demography.age_out(t)  # writes alive: the 18-year-olds leave
        self.measurement.ageing_out(t, leaving)  # reads the leavers (NEET at 18) before they are dropped
        flows = self.demography.step(t)  # writes households and children: poverty, moves, births
        pop.compact()  # drops the rows of those who left
        self.services.step(t)  # reads families and ages; writes use, places, waiting lists, contacts, handovers
        self.measurement.after_allocation(t)  # reads the August allocation (waiting lists)
        self.development.step(t)  # reads use and families; writes the children's scores
        self.measurement.snapshot(t)  # reads everything: the indicators of the month
        self.costs.step(t)  # reads use, places, contacts and levers; writes euros by payer
        self.flows = {**flows, "aged_out": int(leaving.size)}
        self.datacollector.collect(self)
        self.t += 1
        self.running = self.t < self.n_months

    def _set_levers(self, levers: Levers) -> None:
        """This year's levers take effect: barriers, places, handovers and prices follow them."""
        if levers == self.levers:
            return
        self.levers = levers
        self.services.set_levers(levers)
        self.costs.set_levers(levers)

    def run(self, progress: bool = False) -> "PreventionChainModel":
        for _ in tqdm(range(self.t, self.n_months), disable=not progress, desc="Monate", unit="Monat", leave=False):
            self.step()
        return self

    # ---- reading the state ---------------------------------------------------------------------
    def child_status_share(self, status: int) -> float:
        ch = self.pop.children
        present = np.flatnonzero(ch.alive)  # (row indices: cheaper than selecting by the mask)
        return float((self.pop.households.status.take(ch.hh.take(present)) == status).mean()) if present.size else 0.0

    def waiting(self, *services: str) -> int:
        """Children waiting for a place of any of the services (a child waiting for two counts once)."""
        waiting = self.pop.children.waiting[:, [self.catalogue.index(s) for s in services]]
        return int(waiting.any(axis=1).sum())

    def child(self, child_id: int) -> Child:
        key = ("child", int(child_id))
        if key not in self._views:
            self._views[key] = Child(self, child_id)
        return self._views[key]

    def household(self, household_id: int) -> Household:
        key = ("household", int(household_id))
        if key not in self._views:
            self._views[key] = Household(self, household_id)
        return self._views[key]

    def sample_children(self, n: int, seed: int = 0) -> list[Child]:
        """n children present now, drawn at random, as agents."""
        ch = self.pop.children
        present = ch.cid[ch.alive]
        chosen = rng.generator(seed, "sample", self.t).choice(present, size=min(n, present.size), replace=False)
        return [self.child(int(c)) for c in np.sort(chosen)]

    # ---- results -------------------------------------------------------------------------------
    def indicators(self, by_year: bool = False) -> pd.DataFrame:
        """Tidy indicator table over the reported years."""
        table = self.accumulator.table(self.reported_years, by_year=by_year)
        table.insert(0, "scenario", self.scenario.name if self.scenario else "custom")
        table.insert(1, "seed", self.seed)
        return table

    def cost_table(self) -> pd.DataFrame:
        """Annual cost per cost line (service or lever) and Sozialraumtyp in EUR at city scale,
        reported years only. `cost_eur` is the city's budget (the default perspective);
        `public_cost_eur` adds the Land, the Bund and the health insurance; `total_cost_eur` also
        parents' fees and providers' own shares. One column per payer."""
        euro, admin = self.costs.euro, self.costs.admin
        names = {i: s.name for i, s in self.catalogue.services.items()} | LEVER_LINES
        lines = self.costs.ids
        years = [y for y in range(self.n_years_total) if self.first_year + y in self.reported_years]
        n_y, n_l = len(years), len(lines)
        payer = {p: euro[years][..., k].reshape(-1) for k, p in enumerate(PAYERS)}
        table = pd.DataFrame({
            "year": np.repeat(np.array(years) + self.first_year, n_l * 5),
            "service": np.tile(np.repeat(np.array(lines, dtype=object), 5), n_y),
            "service_label": np.tile(np.repeat(np.array([names[x] for x in lines], dtype=object), 5), n_y),
            "sozialraum_typ": np.tile(np.arange(1, 6), n_y * n_l),
            "cost_eur": payer["city"],
            "public_cost_eur": sum(payer[p] for p in PUBLIC_PAYERS),
            "total_cost_eur": euro[years].sum(axis=-1).reshape(-1),
            **{f"{p}_eur": payer[p] for p in PAYERS},
            "admin_overhead_eur": admin[years].reshape(-1),
        })
        table.insert(0, "scenario", self.scenario.name if self.scenario else "custom")
        table.insert(1, "seed", self.seed)
        return table

    def capacity_table(self) -> pd.DataFrame:
        """What each capacity-limited service did, per reported year, at city scale as monthly
        averages: its capacity (places, cases at a time, or contacts a month for single contacts),
        what of it was used, the children who asked and got nothing that month, and those in its
        age and group who did not ask; with the service's access (for "automatic" every child it is
        for counts as asking). This says why a lever's reach stops growing: a caseload that
        is not used up is not the limit; who asks is."""
        services = self.services
        rows = []
        for y in range(self.n_years_total):
            year = self.first_year + y
            if year not in self.reported_years:
                continue
            for s, (service_id, svc) in enumerate(self.catalogue.services.items()):
                if not isinstance(svc.capacity, Capacity):
                    continue
                capacity, used, unserved, not_asking = services.capacity_months[y, s] / 12 / self.scale
                kind = "places" if svc.capacity.fte is None else ("contacts_per_month" if svc.mode == "once" else "cases")
                rows.append((year, service_id, svc.name, kind, svc.access, capacity, used, unserved, not_asking))
        table = pd.DataFrame(rows, columns=["year", "service", "service_label", "capacity_kind", "access", "capacity",
                                            "used", "unserved", "not_asking"])
        table["used_share"] = table["used"] / table["capacity"].where(table["capacity"] > 0)
        table.insert(0, "scenario", self.scenario.name if self.scenario else "custom")
        table.insert(1, "seed", self.seed)
        return table

    def school_entry_records(self) -> pd.DataFrame:
        """One row per child examined at school entry in the reported years."""
        records = self.measurement.exam_records
        if not records:
            return pd.DataFrame()
        table = pd.DataFrame({k: np.concatenate([r[k] for r in records]) for k in records[0]})
        table = table[table["year"].isin(list(self.reported_years))].reset_index(drop=True)
        ids = self.city.table["sozialraum_id"].to_numpy()
        table["sozialraum_id"] = ids[table.pop("sozialraum").to_numpy()]
        typ = self.city.table["sozialraum_typ"].to_numpy()
        bezirk = self.city.table["stadtbezirk"].to_numpy()
        sr_row = pd.Index(ids).get_indexer(table["sozialraum_id"])
        table["sozialraum_typ"] = typ[sr_row]
        table["stadtbezirk"] = bezirk[sr_row]
        table["poverty_status"] = np.array(["not_poor", "low_income", "sgb2"])[table["poverty_status"].to_numpy()]
        month = table.pop("arrival_model_month").to_numpy()
        table["arrival_month"] = [self.month_label(int(m)) for m in month]  # "YYYY-MM"; the city at the start: its first month
        after_birth = table["age_at_arrival_months"].to_numpy() > 0
        table["origin"] = np.where(~after_birth, "born_in_city", np.where(month > 0, "moved_in", "present_at_start"))
        table.insert(0, "scenario", self.scenario.name if self.scenario else "custom")
        table.insert(1, "seed", self.seed)
        return table
