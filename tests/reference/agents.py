"""Households and children as plain Mesa agents, each deciding for itself month by month."""

from __future__ import annotations

import math
from statistics import NormalDist

import mesa

from sim.engine.mechanisms.takeup import CAP, COST, DIST, INFO, TRUST  # positions of the barriers
from sim.engine.population import AGE_OUT_MONTHS, AUGUST
from sim.inputs.params import DEVELOPMENT_DOMAINS, TRAITS

NOT_POOR, LOW_INCOME, SGB2 = 0, 1, 2
STATUS_NAMES = ("not_poor", "low_income", "sgb2")
GERMAN, MOTOR, WEIGHT, SCHOOL, SOCIAL, MATERIAL = range(len(DEVELOPMENT_DOMAINS))
EARLY_MONTHS = 36
EARLY_GERMAN_MULTIPLIER = 1.5
NORMAL = NormalDist()


def quantile(p: float) -> float:
    """Standard-normal quantile, with the share kept off 0 and 1."""
    return NORMAL.inv_cdf(min(max(p, 1e-6), 1 - 1e-6))


def monthly(rate_per_year: float) -> float:
    return 1.0 - (1.0 - rate_per_year) ** (1 / 12)


def school_start_month(birth: int) -> int:
    """1 August of the year a child turns 6 by 30 September (NRW)."""
    year, month = divmod(birth, 12)
    return 12 * (year + (6 if month <= 8 else 7)) + AUGUST


class Household(mesa.Agent):
    """A family: where it lives, its poverty status and the traits that make barriers bite."""

    def __init__(self, model, sozialraum, t: int):
        super().__init__(model)
        rnd, d = model.random, model.params.demography
        rho = d.trait_correlation
        self.sozialraum = sozialraum
        self.children: list[Child] = []
        self.present = True
        z_poverty = rnd.gauss(0, 1)

        def trait(share: float, strength: float) -> bool:
            r = strength * rho
            return r * z_poverty + math.sqrt(1 - r * r) * rnd.gauss(0, 1) < quantile(share)

        if z_poverty < quantile(sozialraum.sgb2_share):
            self.status = SGB2
        elif z_poverty < quantile(sozialraum.sgb2_share + sozialraum.low_income_share):
            self.status = LOW_INCOME
        else:
            self.status = NOT_POOR
        self.single_parent = trait(sozialraum.single_parent_share, 1.0)
        self.other_language = trait(sozialraum.other_language_share, 0.6)
        education = rho * z_poverty + math.sqrt(1 - rho * rho) * rnd.gauss(0, 1)
        self.low_education = education < quantile(0.08 + 0.45 * sozialraum.need)
        self.high_education = not self.low_education and education > quantile(1 - max(0.08, 0.55 - 0.6 * sozialraum.need))
        # The family's part of every propensity, and its own draw for services decided per household.
        self.z = rnd.gauss(0, 1)
        self.household_draw = [rnd.gauss(0, 1) for _ in model.providers]
        self.draw_employment()
        self.status_since = t - self._months_already_in_status()

    def sgb2_exit_per_year(self) -> float:
        """Single parents leave SGB II more slowly, families with work faster."""
        d = self.model.params.demography
        rate = d.sgb2_exit_per_year
        if self.single_parent:
            rate *= d.sgb2_exit_factor["single_parent"]
        if self.employed:
            rate *= d.sgb2_exit_factor["employed"]
        return min(rate, 0.99)

    def _months_already_in_status(self) -> int:
        """Backward recurrence time of the family's own exit hazard (0 for families not in poverty)."""
        if self.status == NOT_POOR:
            return 0
        d = self.model.params.demography
        rate = self.sgb2_exit_per_year() if self.status == SGB2 else d.low_income_exit_per_year
        return int(math.floor(math.log(1.0 - self.model.random.random()) / math.log1p(-rate / 12)))

    def draw_employment(self) -> None:
        share = self.model.params.demography.employed_share[STATUS_NAMES[self.status]]
        self.employed = self.model.random.random() < share
        self.update_susceptibility()

    def update_susceptibility(self) -> None:
        """How hard each barrier bites this family, its need score and its development risks,
        from its traits (again whenever a trait or the Sozialraum changes)."""
        traits = {"sgb2": self.status == SGB2, "low_income": self.status == LOW_INCOME,
                  "single_parent": self.single_parent, "low_education": self.low_education,
                  "other_language": self.other_language, "not_employed": not self.employed,
                  "high_education": self.high_education}
        weights = self.model.susceptibility_weights  # (1 + traits) × barriers
        self.susceptibility = [weights[0][b] + sum(weights[1 + k][b] for k, name in enumerate(TRAITS) if traits[name])
                               for b in range(len(weights[0]))]
        need = self.model.params.takeup.need_targeting_risk
        self.need = sum(need.get(name, 0.0) for name in TRAITS if traits[name])
        dev = self.model.params.development
        self.norm = [sum(v for trait, v in dev.risk.get(domain, {}).items() if traits[trait])
                     for domain in DEVELOPMENT_DOMAINS]  # the norm the child's scores revert to (SD)
        self.norm[SCHOOL] += dev.neighbourhood_school_per_type * (self.sozialraum.typ - 1)

    # ---- the month ------------------------------------------------------------------------
    def step(self) -> None:
        """Poverty dynamics, then perhaps a move out of the city or to another Sozialraum."""
        self.poverty_transition()
        self.maybe_move()

    def poverty_transition(self) -> None:
        """Exit by the family's situation; entry hazards that keep the Sozialraum's share of each
        kind of family (couple, single parent) in equilibrium."""
        t, rnd, d = self.model.t, self.model.random, self.model.params.demography
        r = min(max(self.sozialraum.sgb2_share, 0.0), 0.95)
        q = min(max(self.sozialraum.low_income_share / max(1 - r, 1e-6), 0.0), 0.95)
        exit_sgb2, exit_low = monthly(self.sgb2_exit_per_year()), monthly(d.low_income_exit_per_year)
        enter_sgb2 = self.model.sgb2_entry[self.sozialraum.index][int(self.single_parent)]
        u, u_destination = rnd.random(), rnd.random()
        new = self.status
        if self.status == SGB2:
            if u < exit_sgb2:
                new = LOW_INCOME if u_destination < q else NOT_POOR
        elif u < enter_sgb2:
            new = SGB2
        elif self.status == LOW_INCOME:
            if u_destination < exit_low:
                new = NOT_POOR
        elif u_destination < exit_low * q / (1 - q):
            new = LOW_INCOME
        if new != self.status:
            self.status, self.status_since = new, t
            self.draw_employment()

    def maybe_move(self) -> None:
        d, rnd = self.model.params.demography, self.model.random
        p_out = monthly(d.move_out_per_year)
        u = rnd.random()
        if u < p_out:
            self.model.household_leaves(self)
        elif u < p_out + monthly(d.move_within_per_year):
            # Poor families move where poverty is, the others where it is not.
            self.sozialraum = self.model.destination(poor=self.status == SGB2)
            self.update_susceptibility()


class Child(mesa.Agent):
    """A child: its age, its development, and what it uses of each service."""

    def __init__(self, model, household: Household, birth: int, first_born: bool, t: int):
        super().__init__(model)
        rnd = model.random
        n = len(model.providers)
        self.household = household
        household.children.append(self)
        self.birth = birth
        self.first_born = first_born
        self.school_start = school_start_month(birth)
        self.dev = [rnd.gauss(0, 1) for _ in DEVELOPMENT_DOMAINS]
        self.school_shift = 0.0
        self.first_age = [-1] * n
        self.gymnasium = -1
        rho = model.params.demography.propensity_correlation
        self.propensity = []
        for s, provider in enumerate(model.providers):
            own = household.household_draw[s] if provider.per_household else rnd.gauss(0, 1)
            self.propensity.append(NORMAL.cdf(rho * household.z + math.sqrt(1 - rho * rho) * own))
        self.use = [False] * n
        self.ever = [False] * n
        self.until = [-1] * n
        self.place: list[int | None] = [None] * n  # the Sozialraum of the place held
        self.waiting = [False] * n
        self.handover = [False] * n
        self.kita_entry_age = -1
        self.present = True

    # ---- the calendar ---------------------------------------------------------------------
    def age(self, t: int) -> int:
        return t - self.birth

    def in_school(self, t: int) -> bool:
        return t >= self.school_start

    def grade(self, t: int) -> int:
        return (t - self.school_start) // 12 + 1 if self.in_school(t) else 0

    def turns_18(self, t: int) -> bool:
        return self.age(t) >= AGE_OUT_MONTHS

    # ---- take-up ----------------------------------------------------------------------------
    def takes_up(self, provider, extra_distance: float = 0.0, information_twice: bool = False) -> bool:
        """Does the child's fixed propensity lie below today's take-up probability?

        p = logistic(logit(base_rate) − Σ_b elasticity_b · intensity_b · susceptibility_b + targeting · need),
        where outreach and warm handovers lower information and trust, local supply lowers distance,
        last August's waiting list sets the capacity barrier and fee waivers (or BuT paying the fee)
        lower the cost barrier. With `information_twice` the information barrier counts twice: a
        family that would still take the place up registers before the main round's deadline.
        """
        hh = self.household
        sr = hh.sozialraum.index
        load = 0.0
        for b, weight in provider.barriers:  # weight = elasticity × intensity after the levers
            term = weight * hh.susceptibility[b]
            if b in (INFO, TRUST):
                term *= provider.left_by_outreach[sr] * (provider.left_by_handover if self.handover[provider.s] else 1.0)
                if b == INFO and information_twice:
                    term *= 2.0
            elif b == DIST:
                term *= provider.supply_factor[sr]
            elif b == COST:
                if hh.status in provider.fee_waived:
                    term = 0.0
                elif provider.covered_by is not None and self.use[provider.covered_by]:
                    term *= provider.covered_cost_share
            elif b == CAP:
                term *= provider.pressure[sr]
            load += term
        if extra_distance:
            load += self.model.elasticity[DIST] * extra_distance * hh.susceptibility[DIST]
        x = provider.base_logit - load + provider.need_targeting * hh.need
        if not hh.employed:  # parents who do not all work want a U3 place less: demand, not a barrier
            x -= provider.work_demand
        return self.propensity[provider.s] < 1.0 / (1.0 + math.exp(-x))

    # ---- after the services have stepped ----------------------------------------------------
    def arrive_with_history(self, t: int) -> None:
        """A child arriving above age 0 (at the start or moving in) takes the history of a donor
        born in the status-quo city of its age, poverty status and family language (the engine's
        donor pool, sim.engine.mechanisms.history): its Kita entry, first contacts and Gymnasium
        decision before its own age, its warm handovers, and its scores less the donor's family part plus its own."""
        pool, age = self.model.donors, self.age(t)
        if age <= 0:
            return
        hh = self.household
        cell = (min(age // 12, 17), hh.status, int(hh.other_language))
        donors = pool.by_cell.get(cell) or pool.by_age[min(age // 12, 17)]
        k = self.model.random.choice(donors)
        d, par = pool.data, self.model.params.development
        for dom, name in enumerate(DEVELOPMENT_DOMAINS):
            share = 1.0 - par.persistence_per_year[name] ** (age / 12)
            self.dev[dom] = hh.norm[dom] * share + float(d["residual"][k][dom])
        self.school_shift = float(d["school_shift"][k])
        for s in range(len(self.ever)):
            first = int(d["first_age"][k][s])
            if 0 <= first < age:
                self.first_age[s], self.ever[s] = first, True
        kita = int(d["kita_entry_age"][k])
        self.kita_entry_age = kita if 0 <= kita < age else -1
        if self.school_start + 48 - self.birth < age:
            self.gymnasium = int(d["gymnasium"][k])
        self.handover = [bool(x) for x in d["handover"][k]]

    def record_contacts(self, t: int) -> None:
        """Every contact with a service passes a warm handover on to the next services of the chain
        with its own chance: the first month of use, and every twelfth month of use of an ongoing
        service (a single-contact service gives one)."""
        providers = self.model.providers
        age = self.age(t)
        for s, used in enumerate(self.use):
            if used and not self.ever[s]:
                self.ever[s] = True
                self.first_age[s] = age
        for s, used in enumerate(self.use):
            if not used or self.first_age[s] < 0:
                continue
            months = age - self.first_age[s]
            contact = months == 0 if providers[s].once else months % 12 == 0
            if contact:
                for target in providers[s].handover_to:
                    if not self.handover[target] and self.model.random.random() < providers[target].coordination:
                        self.handover[target] = True
        if self.kita_entry_age < 0 and any(self.use[k] for k in self.model.kita):
            self.kita_entry_age = self.age(t)

    def step(self) -> None:
        """One month: each score moves towards its family's norm, the services used add their
        effect, and in August comes the yearly random change."""
        model, t = self.model, self.model.t
        par = model.params.development
        hh = self.household
        change = [0.0] * len(DEVELOPMENT_DOMAINS)
        german_multiplier = par.german_effect_multiplier_other_language if hh.other_language else 1.0
        if self.age(t) < EARLY_MONTHS:
            german_multiplier *= EARLY_GERMAN_MULTIPLIER  # a month of care before 36 months counts more
        for s, used in enumerate(self.use):
            if not used:
                continue
            provider = model.providers[s]
            for d, effect in enumerate(provider.effects):
                if d == GERMAN:
                    if provider.effects_only_for_other_language and not hh.other_language:
                        continue
                    effect *= german_multiplier
                change[d] += effect
        for d, name in enumerate(DEVELOPMENT_DOMAINS):
            rho = par.persistence_per_year[name]
            norm = hh.norm[d] + (self.school_shift if d == SCHOOL else 0.0)
            self.dev[d] += (1 - rho ** (1 / 12)) * (norm - self.dev[d]) + change[d] / 12
            if t % 12 == AUGUST:
                self.dev[d] += math.sqrt(1 - rho * rho) * model.random.gauss(0, 1)
