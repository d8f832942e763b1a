"""The report's sentences: every sentence is a rule over the claims (survey/analysis/claims.py),
its numbers typed, named by what it is about (`Sentence.kind`, `names`)."""

from __future__ import annotations

from survey.analysis import GroupResult
from survey.analysis.claims import SHARE_OUTCOMES
from survey.disclosure import MANAGERS, ORGANISATION
from survey.report.base import same_percent, same_text
from survey.report.model import NUMBER, PERCENT, SIGNED, FigureRef, Named, Sentence, Value
from survey.report.tables import Tables


class Texts(Tables):
    def versus_rest(self, g: GroupResult, var: str) -> int:
        """+1 / -1 when the department is claimed higher / lower than the rest on `var`: its
        Holm-corrected test holds and the shown figures point the same way (so a sentence never
        contradicts the tables); else 0."""
        v = self.claims.versus_rest.get(var, {}).get(g.key)
        mine, org = self.shown_value(g, var), self.shown_value(self.org, var)
        if v is None or mine is None or org is None or v.direction == 0 or same_text(mine.mean, org.mean):
            return 0
        return v.direction if (mine.mean - org.mean) * v.direction > 0 else 0

    def unsaid(self, g: GroupResult, var: str) -> bool:
        """A test that holds but whose shown figures do not agree with it (they are means of
        statement figures on their own bases, the test is on people's own scores): nothing is
        said about it, neither a difference nor 'no difference'."""
        v = self.claims.versus_rest.get(var, {}).get(g.key)
        return v is not None and v.holds and self.versus_rest(g, var) == 0

    def tested(self, var: str, keys: list[str]) -> tuple[FigureRef, ...]:
        """What a sentence about a test on `var` rests on: the score shown and the people tested,
        of the groups named and of the organisation they are compared with."""
        refs = []
        for key in [*keys, ORGANISATION]:
            refs.append(self.ref(var, key))
            verdict = (self.claims.managers.get(var) if key == MANAGERS
                       else self.claims.versus_rest.get(var, {}).get(key))
            if verdict is not None and verdict.estimate is not None:
                refs.append(self.ref(f"claims:{var}", key))
        return tuple(dict.fromkeys(refs))

    def summary(self, groups: list[GroupResult]) -> list[Sentence]:
        lines: list[Sentence] = []
        lines += self.department_sentences()
        names = self.situation_names()
        # ordered by the share shown; the three highest and every situation tied with the third
        # only where more feel braked than helped (as on the team sheets): a situation that
        # mostly helps is not one where the organisation brakes people most
        cells = sorted((c for c in self.org.pace.values() if c.effect is not None
                        and not same_percent(c.effect.get("brakes", 0.0), 0.0)
                        and c.effect.get("brakes", 0.0) > c.effect.get("speeds_up", 0.0)
                        and not same_percent(c.effect.get("brakes", 0.0), c.effect.get("speeds_up", 0.0))),
                       key=lambda c: -c.effect.get("brakes", 0.0))
        if cells:
            third = cells[min(2, len(cells) - 1)].effect.get("brakes", 0.0)
            listed = cells[:3] + [c for c in cells[3:] if same_percent(c.effect.get("brakes", 0.0), third)]
            lines.append(self.say("summary_brakes", "brakes_most", tuple(c.situation for c in listed),
                                  tuple(self.ref(f"pace:{c.situation}.effect", ORGANISATION) for c in listed),
                                  situations=Named(tuple((names[c.situation].lower(),
                                                          Value(c.effect.get("brakes", 0.0), PERCENT))
                                                         for c in listed))))
        head = self.r.headline
        if head and self.r.managers is not None:
            lines += self.manager_sentences(f"derived:{head}")
        lines += self.desired_sentences()
        if "werkgeluk" in self.org.derived:
            score = self.q_derived("werkgeluk")
            lines.append(self.say("summary_werkgeluk", "werkgeluk", (),
                                  (self.ref("derived:werkgeluk", ORGANISATION),),
                                  value=Value(self.org.derived["werkgeluk"].mean, NUMBER, 1),
                                  name=self.t(score.name), description=self.label(f"{score.id}.description", score.description)))
        return lines

    def department_sentences(self) -> list[Sentence]:
        head = self.r.headline
        if not head:
            return []
        var, score = f"derived:{head}", self.t(self.q_derived(head).name)
        depts = [g for g in self.r.departments if self.headline(g)]
        if not depts or self.headline(self.org) is None:
            # every sentence here compares with the organisation: without its figure shown
            # (withdrawn to protect a late form, say) nothing is said
            return []
        value = {g.key: Value(self.headline(g).mean) for g in depts}
        verdicts = self.claims.versus_rest.get(var, {})
        higher = sorted((g for g in depts if self.versus_rest(g, var) > 0), key=lambda g: -self.headline(g).mean)
        lower = sorted((g for g in depts if self.versus_rest(g, var) < 0), key=lambda g: self.headline(g).mean)
        untested = [g for g in depts if verdicts.get(g.key) is None or verdicts[g.key].estimate is None]
        lines = []

        def about(found: list[GroupResult]) -> tuple[FigureRef, ...]:
            return self.tested(var, [g.key for g in found])

        if len(depts) == 1 and not higher and not lower:
            g = depts[0]
            lines.append(self.say("summary_single", "single", (g.key,), about([g]), department=g.key,
                                  value=value[g.key]))
            if not untested:
                lines.append(self.say("summary_single_no_difference", "no_difference", (g.key,), about([g])))
            return lines
        if higher:
            lines.append(self.say("summary_higher", "higher", tuple(g.key for g in higher), about(higher), score=score,
                                  departments=Named(tuple((g.key, value[g.key]) for g in higher))))
        if lower:
            lines.append(self.say("summary_lower", "lower", tuple(g.key for g in lower), about(lower), score=score,
                                  departments=Named(tuple((g.key, value[g.key]) for g in lower))))
        rest = [g for g in depts if g not in higher and g not in lower and g not in untested
                and not self.unsaid(g, var)]
        if untested:
            lines.append(self.say("summary_not_tested", "not_tested", tuple(g.key for g in untested), about(untested),
                                  score=score, departments=", ".join(g.key for g in untested)))
        if rest and (higher or lower or untested):
            lines.append(self.say("summary_others_no_difference", "no_difference", tuple(g.key for g in rest),
                                  about(rest), score=score))
        elif rest:
            # the distinct figures as shown, lowest first (one mean stands for all written alike)
            shown: dict[str, float] = {}
            for g in sorted(rest, key=lambda g: self.headline(g).mean):
                shown.setdefault(_en(self.headline(g).mean), self.headline(g).mean)
            means = list(shown.values())
            if len(means) == 1:
                lines.append(self.say("summary_no_difference_same", "no_difference", tuple(g.key for g in rest),
                                      about(rest), score=score, value=Value(means[0])))
            else:
                lines.append(self.say("summary_no_difference", "no_difference", tuple(g.key for g in rest),
                                      about(rest), score=score, low=Value(means[0]), high=Value(means[-1])))
        return lines

    def manager_sentences(self, var: str) -> list[Sentence]:
        """Managers against employees on `var`: claimed only when the gap as the table shows it
        is clear (`Tables.as_shown`); its figure is the table's."""
        v = self.manager_verdict(var) if self.r.managers is not None else None
        if v is None:
            return []
        score, gap = self.score_name(var), Value(abs(v.estimate))
        refs = self.tested(var, [MANAGERS])
        if v.direction != 0:
            key = "summary_managers_higher" if v.direction > 0 else "summary_managers_lower"
            return [self.say(key, "managers_higher" if v.direction > 0 else "managers_lower", (var,), refs,
                             score=score, gap=gap)]
        # 'the test is stricter than the margin' only where the table shows a margin without 0
        strict = (v.low is not None and v.high is not None and (v.low > 0 or v.high < 0)
                  and min(v.n_first, v.n_second) >= 2 * self.threshold)
        return [self.say("summary_managers_unclear" if strict else "summary_managers_chance", "managers_unclear",
                         (var,), refs, score=score, gap=gap)]

    def desired_sentences(self) -> list[Sentence]:
        """The largest clear gap(s) between desired and current for the whole organisation (all
        tied as shown), each with the gap its row shows."""
        shown = {k: self.desired_gap(self.org, k) for k in self.org.desired}
        clear = sorted(((k, v) for k, v in shown.items() if v is not None and v.direction != 0),
                       key=lambda kv: -abs(kv[1].estimate))
        if not clear:
            return []
        top = abs(clear[0][1].estimate)
        chosen = [(k, v) for k, v in clear if abs(v.estimate) == top]
        return [self.say("summary_desired", "desired", tuple(k for k, _ in chosen),
                         tuple(self.ref(f"gap:{k}", ORGANISATION) for k, _ in chosen),
                         statements=Named(tuple((self.t(self.q.item(k).text).rstrip(". "), Value(v.estimate, SIGNED))
                                                for k, v in chosen)))]

    def highlights(self, g: GroupResult) -> list[Sentence]:
        lines: list[Sentence] = []
        head = self.r.headline
        if head and self.headline(g) and self.headline(self.org):
            direction = self.versus_rest(g, f"derived:{head}")
            if direction:
                lines.append(self.say("dept_higher" if direction > 0 else "dept_lower",
                                      "higher" if direction > 0 else "lower", (g.key,),
                                      self.tested(f"derived:{head}", [g.key]),
                                      score=self.t(self.q_derived(head).name), value=Value(self.headline(g).mean),
                                      organisation=Value(self.headline(self.org).mean)))
        for direction, key in ((1, "dept_dims_higher"), (-1, "dept_dims_lower")):
            dims = [k for k in self.q.dimensions if k in g.dimensions and self.versus_rest(g, f"dim:{k}") == direction]
            dims.sort(key=lambda k: -direction * g.dimensions[k].mean)
            if dims:
                refs = tuple(r for k in dims for r in self.tested(f"dim:{k}", [g.key]))
                lines.append(self.say(key, "dims_higher" if direction > 0 else "dims_lower", tuple(dims), refs,
                                      dimensions=Named(tuple((self.t(self.q.dimensions[k].name),
                                                              Value(g.dimensions[k].mean)) for k in dims))))
        lines += self.pace_sentences(g)
        shown_dims = [k for k in self.q.dimensions if k in g.dimensions]
        if len(shown_dims) >= 2:  # "lowest" of one part says nothing
            low = min(g.dimensions[k].mean for k in shown_dims)
            lowest = [k for k in shown_dims if same_text(g.dimensions[k].mean, low)]
            lines.append(self.say("dept_lowest", "lowest", tuple(lowest),
                                  tuple(self.ref(f"dim:{k}", g.key) for k in lowest),
                                  dimensions=Named(tuple((self.t(self.q.dimensions[k].name), Value(low))
                                                         for k in lowest))))
        for score in self.q.derived:
            if score.id != head and score.id in g.derived and score.id in self.org.derived:
                lines.append(self.say("dept_derived", "derived", (score.id,),
                                      (self.ref(f"derived:{score.id}", g.key),
                                       self.ref(f"derived:{score.id}", ORGANISATION)),
                                      name=self.t(score.name), value=Value(g.derived[score.id].mean, NUMBER, 1),
                                      organisation=Value(self.org.derived[score.id].mean, NUMBER, 1)))
        return lines

    def pace_sentences(self, g: GroupResult) -> list[Sentence]:
        """Which situation brakes most and which helps most, by the share shown (ties all named);
        a situation that is top on both is named as dividing opinion, never as both; a share
        that shows as 0 % is never 'most'. Then the situations where the department differs
        clearly from the rest (Fisher, Holm over the departments)."""
        names = self.situation_names(short=True)
        cells = [c for c in g.pace.values() if c.effect is not None]
        lines: list[Sentence] = []

        def top(outcome: str) -> list[str]:
            best = max((c.effect.get(outcome, 0.0) for c in cells), default=0.0)
            if same_percent(best, 0.0):
                return []
            return [c.situation for c in cells if same_percent(c.effect.get(outcome, 0.0), best)]

        def refs(sids: list[str], *keys: str) -> tuple[FigureRef, ...]:
            return tuple(self.ref(f"pace:{s}.effect", key) for s in sids for key in keys)

        share = {c.situation: c.effect for c in cells}
        brakes, speeds = top("brakes"), top("speeds_up")
        both = [s for s in brakes if s in speeds]
        brakes, speeds = [s for s in brakes if s not in both], [s for s in speeds if s not in both]
        label = lambda sids: ", ".join(names[s].lower() for s in sids)  # noqa: E731
        if brakes:
            lines.append(self.say("dept_brakes", "brakes_most", tuple(brakes), refs(brakes, g.key),
                                  situations=label(brakes), share=Value(share[brakes[0]].get("brakes", 0.0), PERCENT)))
        if speeds:
            lines.append(self.say("dept_speeds", "helps_most", tuple(speeds), refs(speeds, g.key),
                                  situations=label(speeds),
                                  share=Value(share[speeds[0]].get("speeds_up", 0.0), PERCENT)))
        if both:
            lines.append(self.say("dept_divided", "divided", tuple(both), refs(both, g.key), situations=label(both),
                                  brakes=Value(share[both[0]].get("brakes", 0.0), PERCENT),
                                  speeds=Value(share[both[0]].get("speeds_up", 0.0), PERCENT)))
        for outcome in SHARE_OUTCOMES:
            for direction, word in ((1, "more"), (-1, "fewer")):
                found = []
                for c in cells:
                    v = self.claims.shares_versus_rest.get(f"{c.situation}.{outcome}", {}).get(g.key)
                    org = self.org.pace.get(c.situation)
                    if v is None or v.direction != direction or org is None or org.effect is None:
                        continue
                    mine, theirs = c.effect.get(outcome, 0.0), org.effect.get(outcome, 0.0)
                    if (mine - theirs) * direction > 0 and not same_percent(mine, theirs):
                        found.append((c.situation, mine, theirs))
                found.sort(key=lambda f: -direction * f[1])
                if found:
                    sids = [s for s, _, _ in found]
                    lines.append(self.say(
                        f"dept_{word}_{outcome}", f"{word}_{outcome}", tuple(sids), refs(sids, g.key, ORGANISATION),
                        situations=Named(tuple(
                            (names[s].lower(), self.say("versus_organisation", value=Value(mine, PERCENT),
                                                        organisation=Value(theirs, PERCENT)))
                            for s, mine, theirs in found))))
        return lines


def _en(value: float, signed: bool = False) -> str:
    """A figure as written (in any language the same rounding): to compare figures as shown."""
    from survey.i18n import number

    return number(value, 0, "en", signed=signed)

