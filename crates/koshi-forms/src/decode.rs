//! Reading Koshi's 2D codes back from a picture of a page (a PNG, or a PDF page rasterised).

use crate::FormError;

/// Every QR code's text found in a greyscale picture. A scan's resolution is whatever the
/// scanner chose, and the decoder misreads some module sizes (a module of 5.5 pixels, say): a
/// picture where nothing reads is tried again at a few other scales.
pub fn decode_luma(width: usize, height: usize, pixels: &[u8]) -> Vec<String> {
    if pixels.len() < width * height || width == 0 || height == 0 {
        return Vec::new();
    }
    let found = decode_at(width, height, pixels);
    if !found.is_empty() {
        return found;
    }
    for scale in [0.8_f32, 0.65, 0.5, 1.3] {
        let (w, h) = ((width as f32 * scale) as usize, (height as f32 * scale) as usize);
        if w < 21 || h < 21 || w * h > 60_000_000 {
            continue;
        }
        let scaled = resample(width, height, pixels, w, h);
        let found = decode_at(w, h, &scaled);
        if !found.is_empty() {
            return found;
        }
    }
    Vec::new()
}

fn decode_at(width: usize, height: usize, pixels: &[u8]) -> Vec<String> {
    // Black print on white paper: one global threshold gives crisp module edges (the decoder's
    // own adaptive threshold lost the finder patterns at some scales).
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(
            width,
            height,
            |x, y| {
                if pixels[y * width + x] < 128 { 0 } else { 255 }
            },
        );
    image
        .detect_grids()
        .into_iter()
        .filter_map(|grid| grid.decode().ok().map(|(_, text)| text))
        .collect()
}

/// The picture at another size: each new pixel the mean of the old pixels it covers (or the
/// nearest one when enlarging).
fn resample(width: usize, height: usize, pixels: &[u8], w: usize, h: usize) -> Vec<u8> {
    let (sx, sy) = (width as f32 / w as f32, height as f32 / h as f32);
    let mut out = Vec::with_capacity(w * h);
    for y in 0..h {
        let (y0, y1) = (
            (y as f32 * sy) as usize,
            (((y + 1) as f32 * sy) as usize).clamp(1, height),
        );
        for x in 0..w {
            let (x0, x1) = (
                (x as f32 * sx) as usize,
                (((x + 1) as f32 * sx) as usize).clamp(1, width),
            );
            let (y1, x1) = (y1.max(y0 + 1).min(height), x1.max(x0 + 1).min(width));
            let mut sum = 0u32;
            for row in y0..y1 {
                sum += pixels[row * width + x0..row * width + x1]
                    .iter()
                    .map(|&p| u32::from(p))
                    .sum::<u32>();
            }
            let n = ((y1 - y0) * (x1 - x0)).max(1) as u32;
            out.push((sum / n) as u8);
        }
    }
    out
}

/// Every QR code's text found in a PNG.
pub fn decode_png(bytes: &[u8]) -> Result<Vec<String>, FormError> {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().map_err(|e| FormError::Picture(e.to_string()))?;
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| FormError::Picture("the picture is too large".into()))?;
    let mut buffer = vec![0; size];
    let info = reader
        .next_frame(&mut buffer)
        .map_err(|e| FormError::Picture(e.to_string()))?;
    let (w, h) = (info.width as usize, info.height as usize);
    let channels = info.color_type.samples();
    let luma: Vec<u8> = buffer[..info.buffer_size()]
        .chunks(channels)
        .map(|px| match px {
            [g] | [g, _] => *g,
            [r, g, b, ..] => ((u16::from(*r) * 3 + u16::from(*g) * 6 + u16::from(*b)) / 10) as u8,
            [] => 255,
        })
        .collect();
    Ok(decode_luma(w, h, &luma))
}
