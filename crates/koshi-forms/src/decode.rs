//! Reading Koshi's 2D codes back from a picture of a page (a PNG, or a PDF page rasterised).

use crate::FormError;

/// Every QR code's text found in a greyscale picture.
pub fn decode_luma(width: usize, height: usize, pixels: &[u8]) -> Vec<String> {
    if pixels.len() < width * height {
        return Vec::new();
    }
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| pixels[y * width + x]);
    image
        .detect_grids()
        .into_iter()
        .filter_map(|grid| grid.decode().ok().map(|(_, text)| text))
        .collect()
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
