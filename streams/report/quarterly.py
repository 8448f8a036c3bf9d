"""The steering group's quarterly report on one programme: one self-contained HTML file (charts as
embedded PNG from matplotlib), readable in two minutes, captions in Swedish and English. Every number it
shows is written into the page as JSON too (`<script id="figures">`), so a test can hold one to the other.
Persons appear only as anonymous dots; groups of 10 or fewer are not shown."""

from __future__ import annotations

import html
import json
from typing import Any

from streams.core.programme.cohort import COST_SEK, OUTCOMES, ProgrammeKind
from streams.core.programme.estimate import ALL
from streams.core.programme.results import QUARTER, ProgrammeResults, SurveyResult
from streams.report.charts import LABELS, draw_charts, no_data


def _num(x: float | None, digits: int = 0, pct: bool = False, signed: bool = True) -> str:
    """`pct`: a change in percent, signed (+12 %); with `signed` False a share (72 %)."""
    if x is None:
        return "–"
    value = 100 * x if pct else x
    if round(value, digits) == 0:
        value = 0.0  # no "-0"
    # thousands apart by a non-breaking space, so that a number never breaks over two lines
    sign = "+" if signed else ""
    text = f"{value:{sign}.{digits}f}\u00a0%" if pct else f"{value:,.{digits}f}".replace(",", "\u00a0")
    return text.replace("-", "−")


class _Page:
    """Collects the HTML; every figure goes through `fig`, which writes its JSON path beside the text."""

    def __init__(self, figures: dict[str, Any]) -> None:
        self.figures = figures
        self.parts: list[str] = []

    def fig(self, path: str, digits: int = 0, pct: bool = False, signed: bool = True) -> str:
        """data-pct: 0 a number, 1 a signed change in percent, 2 a share in percent."""
        value: Any = self.figures
        for key in path.split("."):
            value = value[int(key)] if isinstance(value, list) else value[key]
        mode = 0 if not pct else 1 if signed else 2
        return (f'<span class="fig" data-key="{html.escape(path)}" data-digits="{digits}" '
                f'data-pct="{mode}">{_num(value, digits, pct, signed)}</span>')

    def add(self, s: str) -> None:
        self.parts.append(s)

    def caption(self, sv: str, en: str) -> None:
        self.add(f'<p class="cap" lang="sv">{sv}</p><p class="cap en" lang="en">{en}</p>')


CSS = """body{font-family:system-ui,sans-serif;max-width:1080px;margin:24px auto;color:#222;line-height:1.4}
h1{font-size:1.5em;margin-bottom:0}h2{font-size:1.15em;border-bottom:1px solid #ddd;margin-top:1.4em}
.sub{color:#555;margin-top:.2em}.grid{display:grid;grid-template-columns:1fr 1fr;gap:18px}
.cards{display:flex;gap:12px;flex-wrap:wrap}.card{border:1px solid #ddd;border-radius:6px;padding:8px 12px}
.card b{display:block;font-size:1.3em}
.unreliable{border-color:#c00;color:#900}.cap{font-size:.88em;margin:.2em 0}.en{color:#555}
table{border-collapse:collapse;font-size:.9em}td,th{padding:3px 8px;border-bottom:1px solid #eee;text-align:right}
td:first-child,th:first-child{text-align:left}img{max-width:100%}.note{font-size:.8em;color:#666}"""


def _per_organisation(p: _Page, r: ProgrammeResults) -> None:
    """One small table: each outcome's effect per organisation responsible, when two or more have figures."""
    with_figures = [o for o in r.organisations if any(not e.suppressed for e in o.effects.values())]
    if len(with_figures) < 2:
        return
    measures = list(r.organisations[0].effects)
    p.add("<h3>Per organisation</h3><table><tr><th>organisation</th><th>n</th>"
          + "".join(f"<th>{LABELS[m][0]} / {LABELS[m][1]}</th>" for m in measures) + "</tr>")
    for i, o in enumerate(r.organisations):
        if o.members is None:
            p.add(f"<tr><td>{html.escape(o.organisation)}</td><td colspan='{len(measures) + 1}'>visas inte: ≤ 10 "
                  "personer här eller i en annan grupp / not shown: ≤ 10 persons here or in another group</td></tr>")
            continue
        cells = []
        for m in measures:
            k, d = f"organisations.{i}.effects.{m}", 0 if m == COST_SEK else 2
            cells.append("<td>–</td>" if o.effects[m].suppressed else
                         f"<td>{p.fig(k + '.effect.value', d)} ({p.fig(k + '.effect.low', d)} … "
                         f"{p.fig(k + '.effect.high', d)})</td>")
        p.add(f"<tr><td>{html.escape(o.organisation)}</td><td>{p.fig(f'organisations.{i}.members')}</td>"
              + "".join(cells) + "</tr>")
    p.add("</table>")
    p.caption("Effekt mot referensen per person och månad, med 95 %-intervall, per ansvarig organisation "
              "(organisationsnumret på inskrivningen). Per person och månad tar hänsyn till olika storlek, inte "
              "till hur mycket vård de inskrivna hade före: den som skriver in sjukare personer kan visa större "
              "effekt. Intervallen gäller var för sig (ingen korrektion för flera jämförelser). – : 10 personer "
              "eller färre.",
              "Effect against the reference per person and month, with its 95% interval, per organisation "
              "responsible (the organisation number of the enrolment). Per person-month allows for size, not for "
              "how much care the enrolled had before: one that enrols sicker people can show a larger effect. "
              "Each interval stands alone (no correction for several comparisons). –: 10 persons or fewer.")


def _diagnostics(p: _Page, r: ProgrammeResults) -> None:
    """Whether to trust the effect: the eligibility rule, the placebo, the share with a reference, and the
    before-trajectories of members and references."""
    d = r.diagnostics
    if d is None:
        return
    p.add("<h2>Går effekten att lita på? / Can the effect be trusted?</h2><table>")
    rule = (html.escape(d.rule) if d.rule else
            "inget angivet: referenserna är alla ej inskrivna i enheten, en svagare jämförelse som bara vilar på "
            "matchningen / none declared: the references are anyone of the unit not enrolled, a weaker comparison "
            "resting on the matching alone (declare `eligible_if` in the programme's configuration)")
    p.add(f"<tr><td>kriterier / eligibility</td><td>{rule}</td></tr>")
    if d.placebo is not None:
        p.add(f"<tr><td>placebo ({LABELS[d.measure][0]} / {LABELS[d.measure][1]})</td>"
              f"<td>{p.fig('diagnostics.placebo.value', 0, True)} (95 %: {p.fig('diagnostics.placebo.low', 0, True)}"
              f" … {p.fig('diagnostics.placebo.high', 0, True)}), n = {p.fig('diagnostics.placebo_trials')}</td></tr>")
    else:
        p.add("<tr><td>placebo</td><td>kunde inte göras / could not be run</td></tr>")
    p.add(f"<tr><td>andel inskrivna med referens / share of members with a reference</td>"
          f"<td>{p.fig('diagnostics.usable_share', 2)}</td></tr>")
    if d.balance is not None:
        p.add(f"<tr><td>skillnad före (standardiserad) / difference before (standardised)</td>"
              f"<td>{p.fig('diagnostics.balance', 2)}</td></tr>")
    p.add("</table>")
    if d.trajectory_members:
        n = len(d.trajectory_members)
        p.add("<table><tr><th>30 dagar före / 30 days before</th>"
              + "".join(f"<th>{-(n - j)}</th>" for j in range(n)) + "</tr>")
        for key, label in (("trajectory_members", "inskrivna / members"),
                           ("trajectory_references", "referenser / references")):
            p.add(f"<tr><td>{label}</td>" + "".join(f"<td>{p.fig(f'diagnostics.{key}.{j}', 2)}</td>"
                                                  for j in range(n)) + "</tr>")
        p.add("</table>")
    p.caption("Placebo: samma beräkning på låtsade inskrivningar av personer som uppfyllde kriterierna samma dag "
              "men inte skrevs in; den ska visa ungefär 0. Förloppet före: per 30-dagarsperiod före inskrivningen, "
              f"{LABELS[d.measure][0]} per person. Om placebon inte håller 0 visar rubriken ingen effekt.",
              "Placebo: the same estimate at pretended enrolments of persons who met the criteria the same day but "
              f"were not enrolled; it must show about 0. Before: per 30-day block before enrolment, "
              f"{LABELS[d.measure][1]} per person. When the placebo does not hold 0, the headline shows no effect.")


def _too_few(r: ProgrammeResults, group: str) -> str:
    """Why a figure is not shown: no one at all ("0"), or 1 to 10 persons (not shown, they could be told)."""
    known = r.inputs.active_in_quarter if group == QUARTER else r.inputs.enrolled_to_date
    if known == 0:
        return "0 personer / persons"
    return "≤ 10 personer: visas inte / ≤ 10 persons: not shown"


def _survey_table(p: _Page, s: SurveyResult, j: int) -> None:
    """Per period: respondents, the median level and the share at or above each level (ordinal: no mean)."""
    levels = s.scale[1:]
    p.add("<table><tr><th>period</th><th>n</th><th>median</th>"
          + "".join(f"<th>≥ {html.escape(level)}</th>" for level in levels) + "</tr>")
    for i, (period, d) in enumerate(zip(s.periods, s.distributions, strict=True)):
        if d is None:
            p.add(f"<tr><td>{html.escape(period)}</td><td colspan='{len(levels) + 2}'>≤ 10 svar: visas inte / "
                  "answers: not shown</td></tr>")
            continue
        k = f"surveys.{j}.distributions.{i}"
        p.add(f"<tr><td>{html.escape(period)}</td><td>{p.fig(k + '.n')}</td><td>{html.escape(d.median)}</td>"
              + "".join(f"<td>{p.fig(f'{k}.at_or_above.{lvl}', 0, True, signed=False)}</td>"
                        for lvl in range(1, len(s.scale))) + "</tr>")
    p.add("</table>")
    p.caption("Andel svar på varje nivå eller högre, och mediannivån, per kvartal (en person räknas en gång per "
              "kvartal, med sitt senaste svar).",
              "Share of answers at each level or above, and the median level, per quarter (a person counts once "
              "a quarter, with their latest answer).")


def render(r: ProgrammeResults) -> str:
    """The report as one HTML page."""
    figures = r.figures()
    p = _Page(figures)
    charts = draw_charts(r)
    kind = ProgrammeKind(r.kind)
    p.add(f"<h1>{html.escape(r.programme)} — {html.escape(r.quarter)}</h1>")
    p.add(f'<p class="sub">Uppföljning för styrgruppen / Steering-group follow-up · data t.o.m. / up to '
          f'{html.escape(r.as_of)} · {r.window_months} mån före och upp till {r.after_months} mån efter '
          f"inskrivning / months before and up to {r.after_months} months after enrolment</p>")
    money_cum = next((m for m in r.money if m.group == "cumulative"), None)
    primary = OUTCOMES[kind][0]
    e = r.effects[primary][ALL]
    k_primary = f"effects.{primary}.{ALL}"
    p.add('<h2>I korthet / In short</h2><div class="cards">')
    diag = r.diagnostics
    if e.suppressed:
        p.add(f"<div class='card'>{_too_few(r, ALL)}</div>")
    elif diag is not None and not diag.reliable:
        # a biased comparison's interval is as narrow as a good one's: no number in the headline then
        p.add("<div class='card unreliable'><b>Effekten är inte tillförlitlig / The effect is not reliable</b>"
              + "<br>".join(html.escape(reason) for reason in diag.reasons) + "</div>")
    else:
        p.add(f"<div class='card'>{LABELS[primary][0]} / {LABELS[primary][1]}"
              f"<b>{p.fig(k_primary + '.relative.value', 0, True)}</b>"
              f"95 %: {p.fig(k_primary + '.relative.low', 0, True)} … {p.fig(k_primary + '.relative.high', 0, True)}"
              f"<br>n = {p.fig(k_primary + '.persons')}</div>")
    if money_cum is not None and money_cum.net_sek is not None and (diag is None or diag.reliable):
        i = r.money.index(money_cum)
        p.add(f"<div class='card'>Netto hittills / Net to date, kr<b>{p.fig(f'money.{i}.net_sek.value')}</b>"
              f"95 %: {p.fig(f'money.{i}.net_sek.low')} … {p.fig(f'money.{i}.net_sek.high')}</div>")
    p.add("</div>")
    p.caption("Effekten är skillnaden mot en referens: på varje inskrivningsdag personer i samma enhet som "
              "uppfyllde programmets kriterier samma dag och inte skrevs in, med samma utfall dag för dag före; "
              "uppföljningen börjar på inskrivningsdagen. Intervallet visar osäkerheten (95 %).",
              "The effect is the difference against a reference: on each enrolment day, persons of the same unit "
              "who met the programme's criteria that day and were not enrolled, with the same outcomes day by day "
              "before; follow-up starts on the enrolment day. The interval shows the uncertainty (95%).")
    _diagnostics(p, r)

    p.add("<h2>Insats / Input</h2><table><tr><th></th><th>värde / value</th></tr>")
    for key, sv, en in [("enrolled_to_date", "inskrivna hittills", "enrolled to date"),
                        ("new_in_quarter", "nya i kvartalet", "new in the quarter"),
                        ("active_in_quarter", "aktiva i kvartalet", "active in the quarter"),
                        ("left_in_quarter", "avslutade i kvartalet", "left in the quarter")]:
        p.add(f"<tr><td>{sv} / {en}</td><td>{p.fig('inputs.' + key)}</td></tr>")
    p.add(f"<tr><td>programmets kostnad i kvartalet, kr / programme cost in the quarter, SEK</td>"
          f"<td>{p.fig('inputs.cost_in_quarter_sek')}</td></tr>"
          f"<tr><td>programmets kostnad hittills, kr / programme cost to date, SEK</td>"
          f"<td>{p.fig('inputs.cost_to_date_sek')}</td></tr></table>")
    p.caption("– betyder att gruppen är 10 personer eller färre och inte visas.",
              "– means the group is 10 persons or fewer and is not shown.")
    p.add("<h2>Process</h2><table>")
    for key in r.process:
        label = {"member_months_in_quarter": "deltagarmånader i kvartalet / member-months in the quarter",
                 "planned_home_care_contacts_per_member_month":
                     "planerade hemvårdsbesök per deltagarmånad / planned home-care contacts per member-month"}[key]
        digits = 0 if key == "member_months_in_quarter" else 1
        p.add(f"<tr><td>{label}</td><td>{p.fig('process.' + key, digits)}</td></tr>")
    p.add("</table>")

    p.add("<h2>Resultat / Results</h2><div class='grid'><div>")
    if "paired" in charts:
        p.add(charts["paired"])
        p.caption(f"Varje prick är en person ({LABELS[primary][0]} per månad) före och efter inskrivning; linjen "
                  "förbinder samma person. Fallet efter är inte hela effekten: se referensen.",
                  f"Each dot is one person ({LABELS[primary][1]} per month) before and after enrolment; the line "
                  "joins the same person. The fall after is not all effect: see the reference.")
    elif not r.paired:  # rendered from published figures, which never carry a member's own levels
        p.caption("Prickarna per person ritas bara av en rapport från händelserna (--events): publicerade "
                  "siffror bär aldrig en enskild persons nivåer.",
                  "The dots per person are drawn only by a report from the events (--events): published "
                  "figures never carry one person's levels.")
    p.add("</div><div>")
    if "effects" in charts:
        p.add(charts["effects"])
        p.caption("Röd punkt: effekt mot referensen med 95 %-intervall. Kryss: enkel före/efter utan referens, "
                  "som också räknar in trender och att de som skrivs in ofta var på en topp.",
                  "Red dot: effect against the reference with its 95% interval. Cross: a plain before/after "
                  "without a reference, which also counts trends and that people are often enrolled at a peak.")
    p.add("</div></div>")
    p.add("<table><tr><th>utfall / outcome</th><th>n</th><th>före / before</th><th>efter / after</th>"
          "<th>utan programmet / without</th><th>effekt / effect</th><th>95 %</th><th>relativ / relative</th>"
          "<th>före/efter utan referens / naive</th></tr>")
    for m, groups in r.effects.items():
        for g in (ALL, QUARTER):
            k = f"effects.{m}.{g}"
            name = f"{LABELS[m][0]} / {LABELS[m][1]}" + (" — kvartalet / the quarter" if g == QUARTER else "")
            if groups[g].suppressed:
                p.add(f"<tr><td>{name}</td><td colspan='8'>{_too_few(r, g)}</td></tr>")
                continue
            if no_data(groups[g]):
                p.add(f"<tr><td>{name}</td><td colspan='8'>inga data: ingen händelse av det här slaget hos "
                      "deltagarna eller referenserna / no data: no event of this kind among the members or "
                      "their references</td></tr>")
                continue
            d = 0 if m == COST_SEK else 2
            p.add(f"<tr><td>{name}</td><td>{p.fig(k + '.persons')}</td><td>{p.fig(k + '.before', d)}</td>"
                  f"<td>{p.fig(k + '.after', d)}</td><td>{p.fig(k + '.counterfactual.value', d)}</td>"
                  f"<td>{p.fig(k + '.effect.value', d)}</td>"
                  f"<td>{p.fig(k + '.effect.low', d)} … {p.fig(k + '.effect.high', d)}</td>"
                  f"<td>{p.fig(k + '.relative.value', 0, True)}</td><td>{p.fig(k + '.naive.value', d)}</td></tr>")
    p.add("</table>")
    p.caption("Per person och månad. ”Utan programmet” är referensens utveckling tillämpad på deltagarna.",
              "Per person and month. “Without” is the reference's development applied to the members.")
    _per_organisation(p, r)

    p.add("<h2>Pengar / Money</h2>")
    if "money" in charts:
        p.add(charts["money"])
    p.add("<table><tr><th>period</th><th>n</th><th>undviken kostnad / avoided, kr</th><th>95 %</th>"
          "<th>programmets kostnad / programme cost, kr</th><th>netto / net, kr</th><th>95 %</th></tr>")
    for i, row in enumerate(r.money):
        k = f"money.{i}"
        if row.net_sek is None:
            p.add(f"<tr><td>{html.escape(row.group)}</td><td colspan='6'>"
                  f"{_too_few(r, QUARTER if row.group == QUARTER else ALL)}</td></tr>")
            continue
        p.add(f"<tr><td>{html.escape(row.group)}</td><td>{p.fig(k + '.persons')}</td>"
              f"<td>{p.fig(k + '.avoided_sek.value')}</td>"
              f"<td>{p.fig(k + '.avoided_sek.low')} … {p.fig(k + '.avoided_sek.high')}</td>"
              f"<td>{p.fig(k + '.programme_cost_sek')}</td><td>{p.fig(k + '.net_sek.value')}</td>"
              f"<td>{p.fig(k + '.net_sek.low')} … {p.fig(k + '.net_sek.high')}</td></tr>")
    p.add("</table>")
    p.caption("Undviken kostnad räknas bara under de första månaderna efter inskrivning (uppföljningsfönstret), "
              "programmets kostnad för hela perioden: nettot är därför försiktigt.",
              "Avoided cost is counted only in the months after enrolment that are followed (the window), the "
              "programme's cost over the whole period: the net is therefore conservative.")
    p.add(f'<p class="note">Kostnadstabell / cost table {html.escape(r.cost_table.version)}: '
          f"{html.escape(r.cost_table.source)}<br>Programmets kostnad / programme cost "
          f"{html.escape(r.programme_cost.version)}: {html.escape(r.programme_cost.source)}</p>")

    if r.surveys:
        p.add("<h2>Enkäter / Surveys</h2>")
        for j, s in enumerate(r.surveys):
            p.add(f"<h3>{html.escape(s.question)}</h3>")
            if f"survey{j}" in charts:
                p.add(charts[f"survey{j}"])
            _survey_table(p, s, j)
            if s.comparison is not None:
                kk = f"surveys.{j}.comparison"
                p.add(f"<p>P({html.escape(s.periods[-1])} &gt; {html.escape(s.periods[0])}) = "
                      f"{p.fig(kk + '.superiority.value', 2)} (95 %: {p.fig(kk + '.superiority.low', 2)} … "
                      f"{p.fig(kk + '.superiority.high', 2)}), "
                      + ("p &lt; 0.001" if s.comparison.p_value < 0.001 else f"p = {p.fig(kk + '.p_value', 3)}")
                      + "</p>")
            p.caption("Andel svar per svarsalternativ. Jämförelsen är sannolikheten att ett svar efter är högre "
                      "än ett före (0,5 = ingen skillnad); inga medelvärden av skalsteg.",
                      "Share of answers per level. The comparison is the probability that an answer after is "
                      "higher than one before (0.5 = no difference); no means of scale steps.")
    data = json.dumps(figures, ensure_ascii=False, sort_keys=True).replace("</", "<\\/")
    return (f'<!doctype html><html lang="sv"><head><meta charset="utf-8"><title>{html.escape(r.programme)} '
            f"{html.escape(r.quarter)}</title><style>{CSS}</style></head><body>{''.join(p.parts)}"
            f'<script type="application/json" id="figures">{data}</script></body></html>')
