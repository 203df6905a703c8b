//! The email's inline images as PNG: the QR code of the link (1 bit per pixel, a few hundred
//! bytes) and the insurer's mark, drawn from its brand colour (the mock has no insurer
//! artwork; a real insurer's logo file would take its place).

use std::sync::Mutex;

use qrcode::{Color, EcLevel, QrCode};

/// Pixels per QR module.
const QR_SCALE: usize = 4;
/// Modules of white border the QR specification asks for.
const QR_QUIET: usize = 4;

/// The QR code of `text` (level M) as a black-and-white PNG.
pub fn qr_png(text: &str) -> Result<Vec<u8>, String> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .map_err(|e| format!("QR code: {e}"))?;
    let modules = code.width();
    let colors = code.to_colors();
    let side = (modules + 2 * QR_QUIET) * QR_SCALE;
    let row_bytes = side.div_ceil(8);
    // In 1-bit greyscale, 1 is white: start white, clear the dark modules' bits.
    let mut data = vec![0xFFu8; row_bytes * side];
    for y in 0..side {
        for x in 0..side {
            let (mx, my) = (x / QR_SCALE, y / QR_SCALE);
            let dark = mx >= QR_QUIET
                && my >= QR_QUIET
                && mx < QR_QUIET + modules
                && my < QR_QUIET + modules
                && colors[(my - QR_QUIET) * modules + (mx - QR_QUIET)] == Color::Dark;
            if dark {
                data[y * row_bytes + x / 8] &= !(0x80 >> (x % 8));
            }
        }
    }
    encode(
        side as u32,
        side as u32,
        png::ColorType::Grayscale,
        png::BitDepth::One,
        &data,
    )
}

/// The insurer's mark: a rounded badge in its colour with a white cross, 48 by 48 pixels.
/// Drawn once per colour (every email of an insurer carries the same bytes).
pub fn logo_png(colour: [u8; 3]) -> Result<Vec<u8>, String> {
    static DRAWN: Mutex<Vec<([u8; 3], Vec<u8>)>> = Mutex::new(Vec::new());
    let mut drawn = DRAWN.lock().map_err(|_| "logo cache poisoned".to_owned())?;
    if let Some((_, png)) = drawn.iter().find(|(c, _)| *c == colour) {
        return Ok(png.clone());
    }
    let png = draw_logo(colour)?;
    // A handful of insurers; the bound keeps a stream of odd colours from growing it.
    if drawn.len() < 64 {
        drawn.push((colour, png.clone()));
    }
    Ok(png)
}

fn draw_logo(colour: [u8; 3]) -> Result<Vec<u8>, String> {
    const SIDE: usize = 48;
    let mut data = Vec::with_capacity(SIDE * SIDE * 4);
    let centre = (SIDE as i32 - 1) as f32 / 2.0;
    for y in 0..SIDE {
        for x in 0..SIDE {
            let (dx, dy) = ((x as f32 - centre).abs(), (y as f32 - centre).abs());
            // A rounded square: corners cut by a circle of radius 10.
            let inside = {
                let (cx, cy) = ((dx - 13.5).max(0.0), (dy - 13.5).max(0.0));
                cx * cx + cy * cy <= 100.0
            };
            let cross = (dx <= 4.0 && dy <= 14.0) || (dy <= 4.0 && dx <= 14.0);
            let px = match (inside, cross) {
                (false, _) => [0, 0, 0, 0],
                (true, true) => [255, 255, 255, 255],
                (true, false) => [colour[0], colour[1], colour[2], 255],
            };
            data.extend_from_slice(&px);
        }
    }
    encode(
        SIDE as u32,
        SIDE as u32,
        png::ColorType::Rgba,
        png::BitDepth::Eight,
        &data,
    )
}

fn encode(
    width: u32,
    height: u32,
    colour: png::ColorType,
    depth: png::BitDepth,
    data: &[u8],
) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_color(colour);
        encoder.set_depth(depth);
        encoder.set_compression(png::Compression::Best);
        let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
        writer.write_image_data(data).map_err(|e| e.to_string())?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_qr_png_of_a_link_is_small_and_decodes_to_its_modules() {
        let link = format!("https://app.tierspay.fr/l/{}", "A".repeat(120));
        let png_bytes = qr_png(&link).unwrap();
        assert!(png_bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
        assert!(png_bytes.len() < 2_000, "{} bytes", png_bytes.len());
        // Read it back: its size is the code's modules plus the quiet zone, times the scale,
        // and the top-left finder pattern's corner module is dark.
        let decoder = png::Decoder::new(std::io::Cursor::new(&png_bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).unwrap();
        let modules = QrCode::with_error_correction_level(link.as_bytes(), EcLevel::M)
            .unwrap()
            .width();
        assert_eq!(info.width as usize, (modules + 8) * QR_SCALE);
        let row = info.line_size;
        let corner = QR_QUIET * QR_SCALE;
        assert_eq!(buf[corner * row + corner / 8] & (0x80 >> (corner % 8)), 0);
        assert_ne!(buf[0] & 0x80, 0, "the quiet zone is white");
    }

    #[test]
    fn the_logo_is_a_small_png() {
        let logo = logo_png([0x1f, 0x5f, 0xa8]).unwrap();
        assert!(logo.starts_with(b"\x89PNG"));
        assert!(logo.len() < 1_500, "{} bytes", logo.len());
    }
}
