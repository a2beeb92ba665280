"""ReferenceModel: the engine's month, one agent at a time.

    measurement points -> children turning 18 leave -> each household: poverty, moves
    -> families moving in -> births -> each service provider, in catalogue order
    -> each child: first contacts and warm handovers -> August waiting lists
    -> each child: development -> 1 March snapshot
"""

from __future__ import annotations

from dataclasses import dataclass

import mesa

from sim.engine.mechanisms.demography import sgb2_entry_monthly
from sim.engine.mechanisms.history import donor_pool
from sim.engine.mechanisms.takeup import susceptibility_weights
from sim.engine.model import PreventionChainModel
from sim.engine.population import BAND_COLUMNS, BANDS_MONTHS, HOUSEHOLD_SIZE_SHARES, CityArrays
from sim.inputs.city import City, load_city
from sim.inputs.levers import Levers
from sim.inputs.params import BARRIERS, ModelParams, load_params
from sim.inputs.scenario import Scenario, load_scenario
from sim.inputs.services import Catalogue, load_catalogue

from reference.agents import Child, Household, monthly
from reference.measurement import StatisticsOffice
from reference.providers import ServiceProvider

KITA_SERVICES = ("u3_kita", "ue3_kita")
FAMILY_BENEFIT = "kinderzuschlag"


class _Donors:
    """The engine's donor pool, as lists of donor positions by (age in years, status, language) and by age."""

    def __init__(self, data: dict):
        self.data = data
        self.by_cell: dict[tuple, list[int]] = {}
        self.by_age: dict[int, list[int]] = {}
        for k, (age, status, language) in enumerate(zip(data["age_months"], data["status"], data["other_language"])):
            self.by_cell.setdefault((int(age) // 12, int(status), int(language)), []).append(k)
            self.by_age.setdefault(int(age) // 12, []).append(k)


@dataclass
class Sozialraum:
    index: int
    bezirk: int
    typ: int
    sgb2_share: float
    low_income_share: float
    other_language_share: float
    single_parent_share: float
    children_by_band: tuple[int, ...]
    row: dict

    @property
    def need(self) -> float:
        return min(max(self.sgb2_share / 0.64, 0.0), 1.0)


class ReferenceModel(mesa.Model):
    def __init__(self, scenario: Scenario | str | None = "baseline", *, levers: Levers | None = None,
                 city: City | None = None, catalogue: Catalogue | None = None, params: ModelParams | None = None,
                 seed: int = 0, scale: float = 1.0, years: int = 18, burn_in_years: int = 6):
        super().__init__(seed=seed)
        self.scenario = load_scenario(scenario) if isinstance(scenario, str) else scenario
        self.levers = levers or (self.scenario.levers if self.scenario else Levers())
        self.city = city or load_city()
        self.catalogue = catalogue or load_catalogue(place_columns=set(self.city.table.columns))
        self.params = params or load_params()
        self.scale, self.years, self.burn_in_years = float(scale), years, burn_in_years
        self.n_months = 12 * (years + burn_in_years)
        self.t = 0
        self.sozialraeume = [
            Sozialraum(i, int(row["stadtbezirk"]), int(row["sozialraum_typ"]), float(row["sgb2_share"]),
                       float(row["low_income_share"]), float(row["other_language_share"]),
                       float(row["single_parent_share"]), tuple(int(row[c]) for c in BAND_COLUMNS), row)
            for i, row in enumerate(self.city.table.to_dict("records"))
        ]
        self.susceptibility_weights = susceptibility_weights(self.params).tolist()
        self.elasticity = [self.params.takeup.elasticity[b] for b in BARRIERS]
        self.providers = [ServiceProvider(self, s, service_id, svc)
                          for s, (service_id, svc) in enumerate(self.catalogue.services.items())]
        for provider in self.providers:
            provider.link()
        ids = self.catalogue.ids
        self.kita = [ids.index(k) for k in KITA_SERVICES]
        self.benefit = ids.index(FAMILY_BENEFIT)
        self._births_where = self._cumulative([sr.children_by_band[0] for sr in self.sozialraeume])
        self._moves_where = self._cumulative([sum(sr.children_by_band) for sr in self.sozialraeume])
        kids = [sum(sr.children_by_band) for sr in self.sozialraeume]
        self._poor_move_to = self._cumulative([k * sr.sgb2_share for k, sr in zip(kids, self.sozialraeume)])
        self._other_move_to = self._cumulative([k * (1 - sr.sgb2_share) for k, sr in zip(kids, self.sozialraeume)])
        self._sizes = list(HOUSEHOLD_SIZE_SHARES)
        self._size_weights = self._cumulative(list(HOUSEHOLD_SIZE_SHARES.values()))
        self._mean_size = sum(k * w for k, w in HOUSEHOLD_SIZE_SHARES.items())
        self._in_ages = self._in_mover_ages()
        self._in_ages_where = self._cumulative(self._in_ages)
        # Derived inputs shared with the engine: the SGB II entry hazards per Sozialraum and kind of
        # family, and the donors (status-quo children) whose histories arriving children take.
        self.sgb2_entry = sgb2_entry_monthly(CityArrays.from_table(self.city.table), self.params).tolist()
        self.donors = _Donors(donor_pool(self, engine=PreventionChainModel).data)
        self.households: list[Household] = []
        self.children: list[Child] = []
        self.statistics = StatisticsOffice(self)
        self.build_city()

    @staticmethod
    def _cumulative(weights: list[float]) -> list[float]:
        total, out = 0.0, []
        for w in weights:
            total += w
            out.append(total)
        return out

    def levers_value(self, name: str) -> float:
        return float(getattr(self.levers, name))

    def _pick(self, items: list, cumulative: list[float]):
        return self.random.choices(items, cum_weights=cumulative)[0]

    # ---- the population ------------------------------------------------------------------------
    def new_family(self, sozialraum, ages: list[int]) -> Household:
        """A household in a Sozialraum with children of the given ages (the oldest is the first-born)."""
        household = Household(self, sozialraum, self.t)
        self.households.append(household)
        oldest = max(ages)
        first_marked = False
        for age in ages:
            first = age == oldest and not first_marked
            first_marked |= first
            child = Child(self, household, self.t - age, first, self.t)
            child.arrive_with_history(self.t)
            self.children.append(child)
        return household

    def build_city(self) -> None:
        """Children by Sozialraum and age band (a sample of the table), grouped into households."""
        for sr in self.sozialraeume:
            ages = []
            for (lo, hi), count in zip(BANDS_MONTHS, sr.children_by_band):
                n = int(self.rng.binomial(count, self.scale)) if self.scale < 1 else int(round(count * self.scale))
                ages += [self.random.randint(lo, hi) for _ in range(n)]
            self.random.shuffle(ages)
            while ages:
                size = self._pick(self._sizes, self._size_weights)
                self.new_family(sr, ages[:size])
                ages = ages[size:]

    def household_leaves(self, household: Household) -> None:
        household.present = False
        for child in household.children:
            child.present = False

    def destination(self, poor: bool):
        return self._pick(self.sozialraeume, self._poor_move_to if poor else self._other_move_to)

    def _drop_departed(self) -> None:
        for agent in [c for c in self.children if not c.present] + [h for h in self.households if not h.present]:
            agent.remove()
        self.children = [c for c in self.children if c.present]
        self.households = [h for h in self.households if h.present]

    # ---- the month -----------------------------------------------------------------------------
    def step(self) -> None:
        t = self.t
        self.statistics.before_month(t)
        self.age_out(t)
        for household in list(self.households):
            household.step()
        self._drop_departed()
        self.move_in()
        self.births()
        for child in self.children:  # places held when the month began (who is moving up from U3 care)
            child.held_at_start = [place is not None for place in child.place]
        for provider in self.providers:
            provider.step()
        for child in self.children:
            child.record_contacts(t)
        self.statistics.after_allocation(t)
        for child in self.children:
            child.step()
        self.statistics.snapshot(t)
        self.t += 1
        self.running = self.t < self.n_months

    def age_out(self, t: int) -> None:
        for child in self.children:
            if child.turns_18(t):
                self.statistics.ageing_out(child)
                child.present = False
                child.household.children.remove(child)
                if not child.household.children:
                    child.household.present = False
        self._drop_departed()

    def _in_mover_ages(self) -> list[float]:
        """Children moving in a month by age in months: those who leave at each age plus the
        change of the city's children per month of age from one age to the next (the table's
        band densities joined by straight lines between the bands' midpoints)."""
        totals = [sum(sr.children_by_band[b] for sr in self.sozialraeume) for b in range(len(BANDS_MONTHS))]
        points = [((lo + hi) / 2, total / (hi - lo + 1)) for (lo, hi), total in zip(BANDS_MONTHS, totals)]

        def level(age: float) -> float:
            if age <= points[0][0]:
                return points[0][1]
            for (a0, n0), (a1, n1) in zip(points, points[1:]):
                if age <= a1:
                    return n0 + (n1 - n0) * (age - a0) / (a1 - a0)
            return points[-1][1]

        last = BANDS_MONTHS[-1][1]
        out_rate = monthly(self.params.demography.move_out_per_year)
        ages = []
        for age in range(last + 1):
            lo, hi = max(age - 1, 0), min(age + 1, last)
            slope = (level(hi) - level(lo)) / (hi - lo)
            ages.append(max(out_rate * level(age) + slope, 0.0))
        return ages

    def move_in(self) -> None:
        """Families move in so that the city's children by age stay as the table has them."""
        d = self.params.demography
        expected = sum(self._in_ages) * self.scale * d.move_in_ratio / self._mean_size
        n = int(self.rng.poisson(expected))
        ages_range = list(range(len(self._in_ages)))
        for _ in range(n):
            size = self._pick(self._sizes, self._size_weights)
            ages = [self._pick(ages_range, self._in_ages_where) for _ in range(size)]
            self.new_family(self._pick(self.sozialraeume, self._moves_where), ages)

    def births(self) -> None:
        """First-borns found a household; the others are born into a family of the Sozialraum."""
        d = self.params.demography
        n = int(self.rng.poisson(d.births_per_year * self.scale / 12))
        families: dict[int, list[Household]] = {}
        for household in self.households:
            families.setdefault(household.sozialraum.index, []).append(household)
        for _ in range(n):
            sr = self._pick(self.sozialraeume, self._births_where)
            first = self.random.random() < d.first_born_share or not families.get(sr.index)
            if first:
                self.new_family(sr, [0])
            else:
                household = self.random.choice(families[sr.index])
                self.children.append(Child(self, household, self.t, False, self.t))

    def run(self) -> "ReferenceModel":
        while self.t < self.n_months:
            self.step()
        return self

    # ---- results -------------------------------------------------------------------------------
    def indicators(self):
        """numerator, denominator and value per indicator and group, reported years pooled."""
        return self.statistics.tally.table()

