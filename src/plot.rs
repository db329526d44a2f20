//! The sweep's figure: mean allocation vs arrived workload per policy (the FGD paper's Fig. 9).

use anyhow::{anyhow, Result};
use plotters::prelude::*;
use std::path::Path;

/// One labelled curve: (arrived %, alloc %) points.
pub struct Series {
    pub label: String,
    pub points: Vec<(f64, f64)>,
}

/// Draws `series` into an SVG at `path`.
pub fn alloc_vs_arrived(path: &Path, title: &str, series: &[Series]) -> Result<()> {
    let root = SVGBackend::new(path, (900, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
    let y_min = series
        .iter()
        .flat_map(|s| s.points.iter().filter(|p| p.0 >= 60.0).map(|p| p.1))
        .fold(f64::INFINITY, f64::min);
    let y_min = if y_min.is_finite() {
        (y_min - 5.0).floor().max(0.0)
    } else {
        0.0
    };
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(55)
        .build_cartesian_2d(60f64..131f64, y_min..100f64)
        .map_err(|e| anyhow!("{e}"))?;
    chart
        .configure_mesh()
        .x_desc("arrived workload (% of GPU capacity)")
        .y_desc("GPU allocation (% of capacity)")
        .draw()
        .map_err(|e| anyhow!("{e}"))?;
    for (i, s) in series.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        chart
            .draw_series(LineSeries::new(
                s.points.iter().copied().filter(|p| p.0 >= 60.0),
                color.stroke_width(2),
            ))
            .map_err(|e| anyhow!("{e}"))?
            .label(&s.label)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| anyhow!("{e}"))?;
    root.present().map_err(|e| anyhow!("{e}"))?;
    Ok(())
}
