//! The plots flexsim writes (SVG, plotters): line charts (allocation vs arrived workload,
//! utilization over time), bar charts with error bars, and the JCT CDF.

use anyhow::{anyhow, Result};
use plotters::prelude::*;
use std::path::Path;

/// The most points one plotted series keeps. A replay's JCT CDF or utilization time series has
/// a point per job or per event: millions, which make an SVG of tens of megabytes that browsers
/// and viewers hang on, while a chart 1,000 pixels wide cannot show more than ~2,000 anyway.
pub const MAX_POINTS_PER_SERIES: usize = 2000;

/// At most `max` (≥ 4) of `points`, chosen deterministically: the first and the last, and from
/// each of equal runs of consecutive points in between the one with the lowest and the one with
/// the highest y, in their original order, so the x extent, the peaks and the dips survive.
/// A series of at most `max` points is returned unchanged.
pub fn downsample(points: &[(f64, f64)], max: usize) -> Vec<(f64, f64)> {
    let max = max.max(4);
    let n = points.len();
    if n <= max {
        return points.to_vec();
    }
    let inner = &points[1..n - 1];
    let runs = (max - 2) / 2;
    let run_len = inner.len().div_ceil(runs);
    let mut out = Vec::with_capacity(max);
    out.push(points[0]);
    for run in inner.chunks(run_len) {
        let (mut lo, mut hi) = (0, 0);
        for (i, p) in run.iter().enumerate() {
            if p.1.total_cmp(&run[lo].1).is_lt() {
                lo = i;
            }
            if p.1.total_cmp(&run[hi].1).is_gt() {
                hi = i;
            }
        }
        out.push(run[lo.min(hi)]);
        if lo != hi {
            out.push(run[lo.max(hi)]);
        }
    }
    out.push(points[n - 1]);
    out
}

/// One labelled curve: (arrived %, alloc %) points.
pub struct Series {
    pub label: String,
    pub points: Vec<(f64, f64)>,
}

/// Axes of a line chart: fixed ranges, or fitted to the data (x from min to max, y from 0).
pub struct Axes<'a> {
    pub x_desc: &'a str,
    pub y_desc: &'a str,
    pub x_range: Option<(f64, f64)>,
    pub y_range: Option<(f64, f64)>,
    pub legend: SeriesLabelPosition,
}

/// Draws labelled line series into an SVG at `path`; points outside a fixed x range are left
/// out, and each series is cut to [`MAX_POINTS_PER_SERIES`] points ([`downsample`]).
pub fn lines_with(path: &Path, title: &str, axes: &Axes<'_>, series: &[Series]) -> Result<()> {
    let (mut x0, mut x1, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, 0f64);
    for &(x, y) in series.iter().flat_map(|s| s.points.iter()) {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y1 = y1.max(y);
    }
    if !x0.is_finite() || x1 <= x0 {
        (x0, x1) = (0.0, 1.0);
    }
    let (x0, x1) = axes.x_range.unwrap_or((x0, x1));
    let (y0, y1) = axes
        .y_range
        .unwrap_or((0.0, if y1 > 0.0 { y1 * 1.05 } else { 1.0 }));
    let root = SVGBackend::new(path, (1000, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(|e| anyhow!("{e}"))?;
    chart
        .configure_mesh()
        .x_desc(axes.x_desc)
        .y_desc(axes.y_desc)
        .draw()
        .map_err(|e| anyhow!("{e}"))?;
    for (i, s) in series.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        let shown: Vec<(f64, f64)> = s
            .points
            .iter()
            .copied()
            .filter(|p| p.0 >= x0 && p.0 <= x1)
            .collect();
        let points = downsample(&shown, MAX_POINTS_PER_SERIES);
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))
            .map_err(|e| anyhow!("{e}"))?
            .label(&s.label)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .position(axes.legend.clone())
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| anyhow!("{e}"))?;
    root.present().map_err(|e| anyhow!("{e}"))?;
    Ok(())
}

/// Labelled line series with axes fitted to the data.
pub fn lines(
    path: &Path,
    title: &str,
    x_desc: &str,
    y_desc: &str,
    series: &[Series],
) -> Result<()> {
    let axes = Axes {
        x_desc,
        y_desc,
        x_range: None,
        y_range: None,
        legend: SeriesLabelPosition::UpperRight,
    };
    lines_with(path, title, &axes, series)
}

/// The FGD paper's Fig. 9 view: allocation against arrived workload from 60 % to 130 %.
pub fn alloc_vs_arrived(path: &Path, title: &str, series: &[Series]) -> Result<()> {
    let y_min = series
        .iter()
        .flat_map(|s| s.points.iter().filter(|p| p.0 >= 60.0).map(|p| p.1))
        .fold(f64::INFINITY, f64::min);
    let y_min = if y_min.is_finite() {
        (y_min - 5.0).floor().max(0.0)
    } else {
        0.0
    };
    let axes = Axes {
        x_desc: "arrived workload (% of GPU capacity)",
        y_desc: "GPU allocation (% of capacity)",
        x_range: Some((60.0, 131.0)),
        y_range: Some((y_min, 100.0)),
        legend: SeriesLabelPosition::LowerRight,
    };
    lines_with(path, title, &axes, series)
}

/// Allocated and busy utilization over time (replay `timeseries.csv`).
pub fn utilization_over_time(
    path: &Path,
    rows: &[flexsim_sim::metrics::replay_metrics::TimeRow],
) -> Result<()> {
    let to_h = |ms: u64| ms as f64 / 3_600_000.0;
    let series =
        |label: &str, f: fn(&flexsim_sim::metrics::replay_metrics::TimeRow) -> f64| Series {
            label: label.to_owned(),
            points: rows.iter().map(|r| (to_h(r.time_ms), f(r))).collect(),
        };
    let axes = Axes {
        x_desc: "time (h)",
        y_desc: "% of GPU capacity",
        x_range: None,
        y_range: None,
        legend: SeriesLabelPosition::UpperRight,
    };
    lines_with(
        path,
        "Utilization over time",
        &axes,
        &[
            series("allocated", |r| r.util_alloc_pct),
            series("busy", |r| r.util_busy_pct),
        ],
    )
}

/// Empirical CDF of job completion times (log-scaled x), cut to [`MAX_POINTS_PER_SERIES`]
/// points.
pub fn jct_cdf(path: &Path, jct_s: &[f64]) -> Result<()> {
    let mut xs: Vec<f64> = jct_s.iter().map(|x| x.max(1e-3)).collect();
    xs.sort_by(f64::total_cmp);
    let root = SVGBackend::new(path, (900, 500)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
    let lo = xs.first().copied().unwrap_or(1.0);
    let hi = xs.last().copied().unwrap_or(10.0).max(lo * 10.0);
    let mut chart = ChartBuilder::on(&root)
        .caption("Job completion time CDF", ("sans-serif", 22))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(55)
        .build_cartesian_2d((lo..hi).log_scale(), 0f64..1f64)
        .map_err(|e| anyhow!("{e}"))?;
    chart
        .configure_mesh()
        .x_desc("JCT (s)")
        .y_desc("fraction of finished jobs")
        .draw()
        .map_err(|e| anyhow!("{e}"))?;
    let n = xs.len().max(1) as f64;
    let cdf: Vec<(f64, f64)> = xs
        .iter()
        .enumerate()
        .map(|(i, &x)| (x, (i + 1) as f64 / n))
        .collect();
    chart
        .draw_series(LineSeries::new(
            downsample(&cdf, MAX_POINTS_PER_SERIES),
            BLUE.stroke_width(2),
        ))
        .map_err(|e| anyhow!("{e}"))?;
    root.present().map_err(|e| anyhow!("{e}"))?;
    Ok(())
}

/// One bar: a mean and its error (± std).
pub struct Bar {
    pub label: String,
    pub value: f64,
    pub err: f64,
}

/// A bar chart with error bars, one bar per label.
pub fn bars(path: &Path, title: &str, y_desc: &str, bars: &[Bar]) -> Result<()> {
    let top = bars
        .iter()
        .map(|b| b.value + b.err)
        .fold(0f64, f64::max)
        .max(1e-9)
        * 1.1;
    let n = bars.len().max(1);
    let root = SVGBackend::new(path, (1000, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
    let labels: Vec<String> = bars.iter().map(|b| b.label.clone()).collect();
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..n as f64, 0f64..top)
        .map_err(|e| anyhow!("{e}"))?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        // One tick every half bar; the ticks at bar centres carry the labels.
        .x_labels(2 * n + 1)
        .x_label_formatter(&|x| {
            let i = x.floor() as usize;
            if (x - x.floor() - 0.5).abs() < 0.01 {
                labels.get(i).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_desc(y_desc)
        .draw()
        .map_err(|e| anyhow!("{e}"))?;
    chart
        .draw_series(bars.iter().enumerate().map(|(i, b)| {
            let x = i as f64;
            Rectangle::new(
                [(x + 0.15, 0.0), (x + 0.85, b.value)],
                Palette99::pick(i).filled(),
            )
        }))
        .map_err(|e| anyhow!("{e}"))?;
    chart
        .draw_series(bars.iter().enumerate().map(|(i, b)| {
            let x = i as f64 + 0.5;
            PathElement::new(
                vec![(x, (b.value - b.err).max(0.0)), (x, b.value + b.err)],
                BLACK.stroke_width(2),
            )
        }))
        .map_err(|e| anyhow!("{e}"))?;
    root.present().map_err(|e| anyhow!("{e}"))?;
    Ok(())
}

/// A heatmap of `values` (`values[row][col]`, rows bottom to top as `y.1` lists them), each
/// cell coloured on a diverging scale (blue below 0, white at 0, red above) and labelled with
/// its value; the edges between cells on either side of `contour` are drawn thick, so the
/// region where a value reaches it is outlined. NaN cells are grey.
pub fn heatmap(
    path: &Path,
    title: &str,
    x: (&str, &[String]),
    y: (&str, &[String]),
    values: &[Vec<f64>],
    contour: f64,
) -> Result<()> {
    let (cols, rows) = (x.1.len().max(1), y.1.len().max(1));
    let scale = values
        .iter()
        .flatten()
        .filter(|v| v.is_finite())
        .fold(contour.abs(), |m, v| m.max(v.abs()))
        .max(1e-9);
    let colour = |v: f64| -> RGBColor {
        if !v.is_finite() {
            return RGBColor(200, 200, 200);
        }
        let t = (v / scale).clamp(-1.0, 1.0);
        let fade = |c: u8| (255.0 - (255.0 - f64::from(c)) * t.abs()).round() as u8;
        if t >= 0.0 {
            RGBColor(fade(200), fade(30), fade(40))
        } else {
            RGBColor(fade(40), fade(90), fade(200))
        }
    };
    let root = SVGBackend::new(path, (900, 700)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 18))
        .margin(15)
        .x_label_area_size(50)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..cols as f64, 0f64..rows as f64)
        .map_err(|e| anyhow!("{e}"))?;
    let centre_label = |labels: &[String], v: f64| {
        let i = v.floor() as usize;
        if (v - v.floor() - 0.5).abs() < 0.01 {
            labels.get(i).cloned().unwrap_or_default()
        } else {
            String::new()
        }
    };
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(2 * cols + 1)
        .y_labels(2 * rows + 1)
        .x_label_formatter(&|v| centre_label(x.1, *v))
        .y_label_formatter(&|v| centre_label(y.1, *v))
        .x_desc(x.0)
        .y_desc(y.0)
        .draw()
        .map_err(|e| anyhow!("{e}"))?;
    let cell = |r: usize, c: usize| values.get(r).and_then(|row| row.get(c)).copied();
    let mut rects = Vec::new();
    let mut labels = Vec::new();
    for r in 0..rows {
        for c in 0..cols {
            let v = cell(r, c).unwrap_or(f64::NAN);
            let (x0, y0) = (c as f64, r as f64);
            rects.push(Rectangle::new(
                [(x0, y0), (x0 + 1.0, y0 + 1.0)],
                colour(v).filled(),
            ));
            let text = if v.is_finite() {
                format!("{v:.1}")
            } else {
                "–".into()
            };
            labels.push(Text::new(
                text,
                (x0 + 0.5, y0 + 0.5),
                ("sans-serif", 15).into_font().color(&BLACK).pos(
                    plotters::style::text_anchor::Pos::new(
                        plotters::style::text_anchor::HPos::Center,
                        plotters::style::text_anchor::VPos::Center,
                    ),
                ),
            ));
        }
    }
    chart.draw_series(rects).map_err(|e| anyhow!("{e}"))?;
    chart.draw_series(labels).map_err(|e| anyhow!("{e}"))?;
    let above = |r: usize, c: usize| cell(r, c).is_some_and(|v| v >= contour);
    let mut edges = Vec::new();
    for r in 0..rows {
        for c in 0..cols {
            if c + 1 < cols && above(r, c) != above(r, c + 1) {
                let x = (c + 1) as f64;
                edges.push(vec![(x, r as f64), (x, (r + 1) as f64)]);
            }
            if r + 1 < rows && above(r, c) != above(r + 1, c) {
                let y = (r + 1) as f64;
                edges.push(vec![(c as f64, y), ((c + 1) as f64, y)]);
            }
        }
    }
    chart
        .draw_series(
            edges
                .into_iter()
                .map(|e| PathElement::new(e, BLACK.stroke_width(4))),
        )
        .map_err(|e| anyhow!("{e}"))?;
    root.present().map_err(|e| anyhow!("{e}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downsample_keeps_ends_and_extremes_within_the_bound() {
        let small: Vec<(f64, f64)> = (0..10).map(|i| (i as f64, 1.0)).collect();
        assert_eq!(downsample(&small, 2000), small);
        // A slow wave with one spike and one dip in the middle.
        let mut pts: Vec<(f64, f64)> = (0..100_000)
            .map(|i| (i as f64, (i as f64 / 5000.0).sin()))
            .collect();
        pts[43_210].1 = 9.0;
        pts[77_777].1 = -9.0;
        let d = downsample(&pts, 2000);
        assert!(d.len() <= 2000, "{}", d.len());
        assert!(d.len() >= 1900, "{}", d.len());
        assert_eq!(d.first(), pts.first());
        assert_eq!(d.last(), pts.last());
        assert!(d.contains(&pts[43_210]) && d.contains(&pts[77_777]));
        // Original order, and the same points every time.
        assert!(d.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(d, downsample(&pts, 2000));
    }

    #[test]
    fn svg_of_a_100k_point_series_stays_small() {
        let dir = tempfile::tempdir().unwrap();
        let series = [Series {
            label: "busy".into(),
            points: (0..100_000)
                .map(|i| (i as f64, 50.0 + 40.0 * (i as f64 / 700.0).sin()))
                .collect(),
        }];
        let line = dir.path().join("line.svg");
        lines(&line, "t", "x", "y", &series).unwrap();
        let jcts: Vec<f64> = (1..=100_000).map(|i| f64::from(i) * 1.7).collect();
        let cdf = dir.path().join("cdf.svg");
        jct_cdf(&cdf, &jcts).unwrap();
        for f in [line, cdf] {
            let bytes = std::fs::metadata(&f).unwrap().len();
            // 2,000 points at ~20 bytes each plus the axes; 100,000 points would be ~2 MB.
            assert!(bytes < 100_000, "{}: {bytes} bytes", f.display());
        }
    }
}
