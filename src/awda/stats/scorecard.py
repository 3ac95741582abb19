"""The published scorecard: HTML pages in Arabic and English, plots, an HXL CSV and a JSON.

`write_scorecard(facts, out_dir)` applies disclosure control once (`scorecard_model.publish`) and
renders that one publication as every file, so the pages, the CSV and the JSON cannot disagree.
Files written (docs/scorecard.md):

    index.html                     the cohorts, in Arabic (dir=rtl) then English (dir=ltr)
    <slug>.ar.html, <slug>.en.html one report per agreement and per guarantor, per language
    plots/<slug>-survival.{png,svg}, plots/<slug>-incidence.{png,svg}
    scorecard.csv                  HXL-tagged, one row per published figure
    scorecard.json                 exactly what was published
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal, format_percent
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from awda.stats import plots
from awda.stats.report import ScorecardInput
from awda.stats.scorecard_export import csv_text, json_text
from awda.stats.scorecard_model import FOLLOWUP_FIELDS, PLOT_STEP_DAYS, Count, Publication, PublishedCohort, publish
from awda.stats.scorecard_text import LANGUAGES, TEXTS, label, text

Progress = Callable[[int], None] | None
PLOTS_DIR = "plots"


@dataclass(frozen=True)
class ScorecardResult:
    """What `write_scorecard` wrote: files relative to the output folder, and how much it withheld."""

    files: tuple[str, ...]
    cohorts: int
    published_cohorts: int
    suppressed_cohorts: int  # fewer than k people: listed without figures
    suppressed_cells: int  # counts withheld in the published cohorts (small, or giving a small one away)


@dataclass(frozen=True)
class Language:
    """Texts and number formats of one language, as the templates use them."""

    language: str

    @property
    def direction(self) -> str:
        return "rtl" if Locale.parse(self.language).text_direction == "rtl" else "ltr"

    def t(self, key: str, **fields: str) -> str:
        return text(key, self.language, **fields)

    def title(self, cohort: PublishedCohort) -> str:
        return cohort.title_ar if self.language == "ar" else cohort.title_en

    def number(self, value: float) -> str:
        return str(format_decimal(value, locale=self.language))

    def percent(self, fraction: float) -> str:
        return str(format_percent(fraction, format="#,##0.0%", locale=self.language))

    def rate(self, value: float) -> str:
        return str(format_decimal(value, format="#,##0.000", locale=self.language))

    def p_value(self, value: float) -> str:
        if value < 0.001:
            return "< " + self.rate(0.001)
        return self.rate(value)

    def month(self, month: str) -> str:
        return str(format_date(date(int(month[:4]), int(month[5:7]), 1), "MMMM y", locale=self.language))

    def date(self, iso: str) -> str:
        return str(format_date(date.fromisoformat(iso), format="long", locale=self.language))

    def count(self, value: Count) -> Markup:
        """A published count as `<data value>`; a withheld one as the suppression mark, the same for all."""
        if value is None:
            return Markup('<span class="suppressed" title="{}">{}</span>').format(
                self.t("suppressed_title"), self.t("suppressed_mark")
            )
        return Markup('<data value="{}">{}</data>').format(value, self.number(value))

    def interval(self, lower: float, upper: float) -> Markup:
        return Markup("<bdi>{} – {}</bdi>").format(self.percent(lower), self.percent(upper))

    def incident(self, code: str) -> str:
        return label("incident", code, self.language)

    def cause(self, code: str) -> str:
        return label("cause", code, self.language)

    def verification(self, level: str) -> str:
        key = f"verification_{level}"
        return self.t(key) if key in TEXTS else level


def write_scorecard(
    facts: ScorecardInput, out_dir: Path, on_progress: Progress = None, *, with_plots: bool = True
) -> ScorecardResult:
    """Apply disclosure control and write the scorecard's files into `out_dir` (created if needed).

    Checks the facts before writing anything; `on_progress(1)` is called once per cohort.
    `with_plots=False` leaves the images out (the pages then show the tables only): quicker.
    """
    publication = publish(facts)
    out_dir.mkdir(parents=True, exist_ok=True)
    environment = _environment()
    written: list[str] = []
    plot_files: dict[str, dict[str, str]] = {}
    page_files: dict[str, dict[str, str]] = {}
    for cohort in publication.cohorts:
        plot_files[cohort.slug] = _write_plots(cohort, out_dir) if with_plots else {}
        page_files[cohort.slug] = _write_pages(environment, publication, cohort, plot_files[cohort.slug], out_dir)
        written.extend([*plot_files[cohort.slug].values(), *page_files[cohort.slug].values()])
        if on_progress:
            on_progress(1)
    sections = [Language(language) for language in LANGUAGES]
    index = environment.get_template("index.html").render(
        language=sections[0].language, direction=sections[0].direction, sections=sections, publication=publication
    )
    _write(out_dir / "index.html", index)
    _write(out_dir / "scorecard.csv", csv_text(publication))
    _write(out_dir / "scorecard.json", json_text(publication, _plots_json(plot_files), page_files))
    written.extend(["index.html", "scorecard.csv", "scorecard.json"])
    published = [cohort for cohort in publication.cohorts if not cohort.suppressed]
    return ScorecardResult(
        files=tuple(sorted(written)),
        cohorts=len(publication.cohorts),
        published_cohorts=len(published),
        suppressed_cohorts=len(publication.cohorts) - len(published),
        suppressed_cells=publication.protection.primary + publication.protection.secondary,
    )


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("awda.stats", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _write(path: Path, content: str) -> None:
    path.write_text(content, encoding="utf-8", newline="\n")


def _write_plots(cohort: PublishedCohort, out_dir: Path) -> dict[str, str]:
    """The cohort's plot files, by role (`survival_png`, ...), as paths relative to `out_dir`."""
    files: dict[str, str] = {}
    if cohort.survival is None:
        return files
    figures = {"survival": plots.survival_figure(cohort.survival.steps)}
    if cohort.incidence:
        figures["incidence"] = plots.incidence_figure([one.steps for one in cohort.incidence])
    for role, figure in figures.items():
        stem = f"{PLOTS_DIR}/{cohort.slug}-{role}"
        plots.write_plot(figure, out_dir / stem)
        files[f"{role}_png"] = f"{stem}.png"
        files[f"{role}_svg"] = f"{stem}.svg"
    return files


def _write_pages(
    environment: Environment,
    publication: Publication,
    cohort: PublishedCohort,
    plot_files: dict[str, str],
    out_dir: Path,
) -> dict[str, str]:
    template = environment.get_template("cohort.html")
    pages: dict[str, str] = {}
    incident_rows = list(zip(cohort.incidents.months, cohort.incidents.counts, strict=True)) if cohort.incidents else []
    followups = cohort.followups
    followup_rows = [(name, getattr(followups, name)) for name in ("due", *FOLLOWUP_FIELDS)] if followups else []
    for language in LANGUAGES:
        here = Language(language)
        other = Language(next(other for other in LANGUAGES if other != language))
        page = template.render(
            language=language,
            direction=here.direction,
            l=here,
            other=other,
            publication=publication,
            cohort=cohort,
            plots=plot_files,
            colours=plots.COLOURS,
            incident_rows=incident_rows,
            followup_rows=followup_rows,
            step_days=PLOT_STEP_DAYS,
        )
        name = f"{cohort.slug}.{language}.html"
        _write(out_dir / name, page)
        pages[language] = name
    return pages


def _plots_json(plot_files: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    return {slug: dict(sorted(files.items())) for slug, files in plot_files.items()}
