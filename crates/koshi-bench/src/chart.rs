//! The bench chart (`bench/bench.png`): cases a second straight through in process beside each
//! database's durable-write ceiling; latency over HTTP at each offered rate; the server's memory
//! through the HTTP run.

use std::path::Path;

use anyhow::{Context, Result, anyhow};
use plotters::prelude::*;
use serde_json::Value;

const WIDTH: u32 = 1500;
const HEIGHT: u32 = 520;
const FONT: &str = "sans-serif";
/// The chart's text is drawn with the serif face Koshi's printed forms vendor (no system fonts).
static PT_SERIF: &[u8] = include_bytes!("../../koshi-forms/fonts/PTSerif-Regular.ttf");

pub fn draw(throughput: &Value, http: &Value, out: &Path) -> Result<()> {
    plotters::style::register_font(FONT, FontStyle::Normal, PT_SERIF)
        .map_err(|_| anyhow!("the vendored font does not load"))?;
    let mut buf = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE)?;
        let areas = root.split_evenly((1, 3));
        cases(&areas[0], throughput)?;
        latency(&areas[1], http)?;
        memory(&areas[2], http)?;
        root.present()?;
    }
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let file =
        std::io::BufWriter::new(std::fs::File::create(out).with_context(|| format!("cannot write {}", out.display()))?);
    let mut enc = png::Encoder::new(file, WIDTH, HEIGHT);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.write_header()?.write_image_data(&buf)?;
    Ok(())
}

type Area<'a> = DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>;

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or(0.0)
}

/// Cases a second straight through, each database's median as a bar and every run as a point,
/// with the raw serial-commit ceiling (one durable commit a case) as a line over it.
fn cases(area: &Area<'_>, t: &Value) -> Result<()> {
    let rows = t["results"].as_array().cloned().unwrap_or_default();
    let top = rows
        .iter()
        .flat_map(|r| {
            r["runs_per_second"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(|x| num(&x))
        })
        .fold(1.0, f64::max)
        * 1.2;
    let mut c = ChartBuilder::on(area)
        .caption("RVP cases a second, straight through (in process)", (FONT, 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(-0.5f64..(rows.len() as f64 - 0.5).max(0.5), 0f64..top)?;
    let names: Vec<String> = rows
        .iter()
        .map(|r| {
            r["database"]
                .as_str()
                .unwrap_or("")
                .split(' ')
                .next()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    c.configure_mesh()
        .disable_x_mesh()
        .x_labels(rows.len().max(1))
        .x_label_formatter(&|x| names.get(x.round() as usize).cloned().unwrap_or_default())
        .y_label_formatter(&|y| format!("{y:.0}"))
        .y_desc("cases/s")
        .label_style((FONT, 14))
        .draw()?;
    for (i, r) in rows.iter().enumerate() {
        let x = i as f64;
        let median = num(&r["cases_per_second_median"]);
        c.draw_series(std::iter::once(Rectangle::new(
            [(x - 0.3, 0.0), (x + 0.3, median)],
            BLUE.mix(0.5).filled(),
        )))?;
        c.draw_series(
            r["runs_per_second"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .map(|v| Circle::new((x, num(v)), 3, BLACK.filled())),
        )?;
        let serial = num(&r["raw_inserts_serial_per_second"]);
        c.draw_series(std::iter::once(PathElement::new(
            vec![(x - 0.35, serial), (x + 0.35, serial)],
            RED.stroke_width(2),
        )))?;
        let highest = r["runs_per_second"]
            .as_array()
            .map(|a| a.iter().map(num).fold(median, f64::max))
            .unwrap_or(median);
        c.draw_series(std::iter::once(Text::new(
            format!("median {median:.0}/s; red: {serial:.0} serial commits/s"),
            (x - 0.4, highest + top * 0.05),
            (FONT, 13),
        )))?;
    }
    Ok(())
}

/// p50 and p99 over HTTP against each offered rate, for filings and for reads of one case.
fn latency(area: &Area<'_>, h: &Value) -> Result<()> {
    let phases = h["phases"].as_array().cloned().unwrap_or_default();
    let series = |prefix: &str, q: &str| -> Vec<(f64, f64)> {
        phases
            .iter()
            .filter(|p| {
                p["phase"].as_str().is_some_and(|n| n.starts_with(prefix)) && p["offered_per_second"].is_number()
            })
            .map(|p| (num(&p["offered_per_second"]), num(&p["latency_ms"][q]).max(0.01)))
            .collect()
    };
    let all: Vec<(f64, f64)> = ["filings", "reads"]
        .iter()
        .flat_map(|k| series(k, "p99").into_iter().chain(series(k, "p50")))
        .collect();
    let x_max = all.iter().map(|p| p.0).fold(1.0, f64::max) * 1.1;
    let y_max = all.iter().map(|p| p.1).fold(1.0, f64::max) * 2.0;
    let mut c = ChartBuilder::on(area)
        .caption("Latency over HTTP at fixed offered rates", (FONT, 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..x_max, (0.05f64..y_max).log_scale())?;
    c.configure_mesh()
        .x_desc("requests offered a second")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| if *y >= 1.0 { format!("{y:.0}") } else { format!("{y}") })
        .y_desc("ms (log)")
        .label_style((FONT, 14))
        .draw()?;
    for (prefix, q, color, label) in [
        ("filings", "p99", RED.to_rgba(), "filings p99"),
        ("filings", "p50", RED.mix(0.5), "filings p50"),
        ("reads", "p99", BLUE.to_rgba(), "reads p99"),
        ("reads", "p50", BLUE.mix(0.5), "reads p50"),
    ] {
        let pts = series(prefix, q);
        c.draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))?
            .label(label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
        c.draw_series(pts.into_iter().map(|p| Circle::new(p, 3, color.filled())))?;
    }
    c.configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .label_font((FONT, 13))
        .position(SeriesLabelPosition::UpperLeft)
        .draw()?;
    Ok(())
}

/// The server's resident memory through the HTTP run.
fn memory(area: &Area<'_>, h: &Value) -> Result<()> {
    let pts: Vec<(f64, f64)> = h["server_memory_mib"]["samples"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|s| (num(&s[0]), num(&s[1])))
        .collect();
    let x_max = pts.iter().map(|p| p.0).fold(1.0, f64::max);
    let y_max = pts.iter().map(|p| p.1).fold(1.0, f64::max).max(150.0) * 1.15;
    let mut c = ChartBuilder::on(area)
        .caption("Server memory (VmRSS) through the HTTP run", (FONT, 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..x_max, 0f64..y_max)?;
    c.configure_mesh()
        .x_desc("seconds")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .y_desc("MiB")
        .label_style((FONT, 14))
        .draw()?;
    c.draw_series(LineSeries::new(pts, BLUE.stroke_width(2)))?
        .label("VmRSS")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE.stroke_width(2)));
    c.draw_series(std::iter::once(PathElement::new(
        vec![(0.0, 150.0), (x_max, 150.0)],
        RED.stroke_width(1),
    )))?
    .label("target: 150 MiB")
    .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED.stroke_width(1)));
    c.configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .label_font((FONT, 13))
        .position(SeriesLabelPosition::LowerRight)
        .draw()?;
    Ok(())
}
