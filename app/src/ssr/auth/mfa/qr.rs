//! The enrolment QR code, drawn on the server as SVG (no script, no image request).
use qrcode::{EcLevel, QrCode, render::svg};

/// An SVG of `data` (an `otpauth://` URI), or `None` if it does not fit a QR code.
pub fn svg_of(data: &str) -> Option<String> {
    let code = QrCode::with_error_correction_level(data.as_bytes(), EcLevel::M).ok()?;
    Some(
        code.render::<svg::Color<'_>>()
            .min_dimensions(200, 200)
            .dark_color(svg::Color("#000000"))
            .light_color(svg::Color("#ffffff"))
            .quiet_zone(true)
            .build(),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_qr_code_is_an_svg_without_script() {
        let svg = super::svg_of("otpauth://totp/Palisade:a@example.com?secret=ABC").unwrap();
        assert!(svg.contains("<svg"), "{svg}");
        assert!(!svg.contains("<script"));
    }
}
