"""The HTML bulletin of an edition: one static file that opens offline.

Built from the edition's tidy tables (nothing here re-decides a figure): main points, a chart
per published measure (national monthly trend, target line, provisional months drawn hollow and
dashed), a regional comparison for the latest quarter, the ratings, the quality statement and
the revisions summary. Charts are matplotlib SVG embedded in the page, each with alt text and
the data table beside it; colour is never the only signal (markers, line styles and words carry
the same meaning). The page is rendered with Jinja2 from `templates/bulletin.html.j2`.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import jinja2
import pandas as pd

from orchestration.publication.tables import period_name
from schemas.periods import performance_year

TEMPLATES = Path(__file__).parent / "templates"
HEADLINE_MEASURE = "SL004"


def _svg(figure, chart: str) -> str:
    """The figure as inline SVG without its XML prologue, sized by the page.

    The same bytes whenever the same chart is drawn: no date in the metadata, and the ids of
    clip paths and markers are hashed with the chart's name (`svg.hashsalt`, else a random
    uuid), which keeps them unique among the charts of one page. The salt is set for this
    figure only (rc_context), not for the process."""
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": f"bulletin-{chart}"}):
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r'(<svg[^>]*?) width="[^"]*" height="[^"]*"', r"\1", svg, count=1)
    return svg


def _number(value, digits: int = 1) -> str:
    if value is None or pd.isna(value):
        return ""
    return f"{value:.{digits}f}"


def _trend_chart(measure: pd.DataFrame, targets: dict[str, float]) -> tuple[str, str]:
    """(SVG, alt text) of one measure's national monthly trend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    months = measure["period"].tolist()
    values = measure["performance_pct"].astype(float).tolist()
    provisional = measure["cell_status"].eq("provisional").tolist()
    figure, axis = plt.subplots(figsize=(7, 3))
    final = [v if not p else None for v, p in zip(values, provisional, strict=True)]
    axis.plot(months, [v if v is not None else float("nan") for v in final], color="#1d70b8",
              marker="o", linewidth=2, label="Final")  # fmt: skip
    if any(provisional):
        first = provisional.index(True)
        start = max(first - 1, 0)
        axis.plot(months[start:], values[start:], color="#1d70b8", linestyle="--",
                  marker="o", markerfacecolor="white", linewidth=2,
                  label="Provisional (hollow markers, dashed)")  # fmt: skip
    target_line = [targets.get(performance_year(m)) for m in months]
    if any(t is not None for t in target_line):
        axis.plot(months, [t if t is not None else float("nan") for t in target_line],
                  color="#0b0c0c", linestyle=":", linewidth=2, label="Target (dotted)")  # fmt: skip
    axis.set_ylabel("Performance (%)")
    axis.set_ylim(0, 100)
    axis.set_xticks(months[:: max(1, len(months) // 8)])
    axis.tick_params(axis="x", labelrotation=45)
    axis.legend(loc="lower left", fontsize=8, frameon=False)
    axis.spines[["top", "right"]].set_visible(False)
    shown = [(m, v) for m, v in zip(months, values, strict=True) if not pd.isna(v)]
    if shown:
        alt = (
            f"Line chart of national performance by month from {period_name(months[0], 'MONTH')} "
            f"to {period_name(months[-1], 'MONTH')}: {shown[-1][1]:.1f}% in the latest month "
            f"shown, between {min(v for _, v in shown):.1f}% and "
            f"{max(v for _, v in shown):.1f}% over the period."
        )
    else:
        alt = "Line chart with no published value in the period."
    svg = _svg(figure, f"trend-{measure['measure_code'].iloc[0]}")
    plt.close(figure)
    return svg, alt


def _regional_chart(rows: pd.DataFrame, national: float | None, name: str) -> tuple[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = rows.sort_values("performance_pct")
    figure, axis = plt.subplots(figsize=(7, 4))
    axis.barh(rows["geography_name"], rows["performance_pct"].astype(float), color="#1d70b8")
    if national is not None:
        axis.axvline(national, color="#0b0c0c", linestyle="--", linewidth=2,
                     label=f"England and Wales {national:.1f}% (dashed)")  # fmt: skip
        axis.legend(loc="lower right", fontsize=8, frameon=False)
    axis.set_xlabel("Performance (%)")
    axis.set_xlim(0, 100)
    axis.spines[["top", "right"]].set_visible(False)
    above = int((rows["performance_pct"] > national).sum()) if national is not None else 0
    alt = (
        f"Bar chart of {name} by region: {above} of {len(rows)} regions above the England and "
        f"Wales figure" + (f" of {national:.1f}%." if national is not None else ".")
    )
    svg = _svg(figure, f"regional-{rows['measure_code'].iloc[0]}")
    plt.close(figure)
    return svg, alt


def main_points(tables: dict[str, pd.DataFrame]) -> list[str]:
    points = []
    yearly = tables["attainment_yearly"]
    national = yearly[yearly["geography_code"].eq("K04000001") & yearly["attainment"].notna()]
    if len(national):
        year = national["period"].max()
        latest = national[national["period"].eq(year)]
        met = int(latest["attainment"].eq("Met").sum())
        partial = " (provisional)" if latest["cell_status"].eq("provisional").any() else ""
        points.append(f"{met} of {len(latest)} service levels met their target in {year}{partial}.")
    ratings = tables["regional_ratings"].dropna(subset=["rating"])
    if len(ratings):
        year = ratings["performance_year"].max()
        latest = ratings[ratings["performance_year"].eq(year)]
        good = int((latest["rating"] >= 3).sum())
        points.append(f"{good} of {len(latest)} regions were rated good or better in {year}.")
    monthly = tables["national_monthly"].dropna(subset=["performance_pct"])
    if len(monthly):
        last = monthly["period"].max()
        year, month = last.split("-")
        earlier = f"{int(year) - 1}-{month}"
        now = monthly[monthly["period"].eq(last)].set_index("measure_code")
        then = monthly[monthly["period"].eq(earlier)].set_index("measure_code")
        change = (now["performance_pct"] - then["performance_pct"]).dropna()
        for code in change.abs().sort_values(ascending=False).index[:3]:
            points.append(
                f"{now.loc[code, 'measure_name']} ({code}): "
                f"{now.loc[code, 'performance_pct']:.1f}% in {period_name(last, 'MONTH')}, "
                f"{'up' if change[code] > 0 else 'down'} {abs(change[code]):.1f} percentage "
                f"points on a year earlier."
            )
    return points


def build_bulletin(
    path: Path, edition_name: str, tables: dict[str, pd.DataFrame], cover, workbook_name: str
) -> None:
    """Render the bulletin to `path`."""
    national = tables["national_monthly"]
    yearly = tables["attainment_yearly"]
    targets = {
        code: dict(zip(rows["period"], rows["target_pct"].astype(float), strict=True))
        for code, rows in yearly[yearly["geography_code"].eq("K04000001")].groupby("measure_code")
    }
    charts = []
    for code, measure in national.groupby("measure_code", sort=True):
        measure = measure.sort_values("period")
        svg, alt = _trend_chart(measure, targets.get(code, {}))
        rows = [
            {
                "period": period_name(r.period, "MONTH"),
                "value": _number(r.performance_pct) or r.rate_shorthand,
                "target": _number(targets.get(code, {}).get(performance_year(r.period))) or "[z]",
                "status": r.cell_status + (" [r]" if r.revision == "[r]" else ""),
            }
            for r in measure.itertuples()
        ]
        charts.append(
            {
                "code": code,
                "name": measure["measure_name"].iloc[0],
                "svg": svg,
                "alt": alt,
                "rows": rows,
            }  # fmt: skip
        )
    regional = tables["regional_quarterly"]
    quarter = regional["period"].max() if len(regional) else None
    comparison = None
    if quarter:
        latest = regional[regional["period"].eq(quarter)]
        headline = latest[latest["measure_code"].eq(HEADLINE_MEASURE)]
        regions = headline[headline["geography_level"].eq("REGION")].dropna(
            subset=["performance_pct"]
        )
        national_row = headline[headline["geography_level"].eq("NATIONAL")]
        national_value = (
            float(national_row["performance_pct"].iloc[0])
            if len(national_row) and not pd.isna(national_row["performance_pct"].iloc[0])
            else None
        )
        if len(regions):
            name = headline["measure_name"].iloc[0]
            svg, alt = _regional_chart(regions, national_value, name)
            comparison = {
                "quarter": period_name(quarter, "QUARTER"),
                "name": name,
                "code": HEADLINE_MEASURE,
                "svg": svg,
                "alt": alt,
                "national": _number(national_value) or "[x]",
                "rows": [
                    {
                        "region": r.geography_name,
                        "value": _number(r.performance_pct),
                        "against": "above"
                        if national_value is not None and r.performance_pct > national_value
                        else "not above",
                    }
                    for r in regions.sort_values("geography_name").itertuples()
                ],
            }
    ratings = tables["regional_ratings"]
    rated_year = ratings["performance_year"].max() if len(ratings) else None
    revisions = tables["revisions"]
    summary = (
        revisions.assign(kind=revisions["reason"].str.split(":").str[0])
        .groupby("kind")
        .size()
        .sort_values(ascending=False)
        .items()
    )
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined
    )
    html = environment.get_template("bulletin.html.j2").render(
        title=f"{cover.title}: {edition_name}",
        edition_name=edition_name,
        cover=cover,
        points=main_points(tables),
        charts=charts,
        comparison=comparison,
        ratings=ratings[ratings["performance_year"].eq(rated_year)].to_dict("records")
        if rated_year
        else [],
        rated_year=rated_year,
        quality=tables["quality"].to_dict("records"),
        revisions_total=len(revisions),
        revisions_summary=list(summary),
        revisions=revisions.head(20).to_dict("records"),
        workbook_name=workbook_name,
    )
    path.write_text(html, encoding="utf-8")
