//! How a kernel's WGSL is assembled: the files of `shaders/` named, in order, shared ones
//! (`activation`, `conv_dims`, `funnel`, `linear_texture`) before the kernel's own.

/// The WGSL text of the `shaders/` files named, concatenated in order.
macro_rules! wgsl {
    ($($file:literal),+) => {
        concat!($(include_str!(concat!("../../shaders/", $file, ".wgsl"))),+)
    };
}
pub(crate) use wgsl;

/// The value of `const NAME: u32 = <digits>u;` in `source`, read when the crate compiles, so
/// that a WGSL constant the host also needs (LRN's `RUN`, which sizes arrays and so cannot be
/// an override) has one home: the WGSL. A missing constant stops the build.
pub(crate) const fn wgsl_const(source: &str, name: &str) -> u32 {
    let (text, name) = (source.as_bytes(), name.as_bytes());
    let mut at = 0;
    while at < text.len() {
        let after = at + b"const ".len() + name.len();
        if starts_at(text, at, b"const ") && starts_at(text, at + 6, name) && after < text.len() && text[after] == b':'
        {
            // `: u32 = ` then the digits.
            let mut k = after;
            while k < text.len() && text[k] != b'=' {
                k += 1;
            }
            while k < text.len() && !text[k].is_ascii_digit() {
                k += 1;
            }
            let mut value = 0u32;
            while k < text.len() && text[k].is_ascii_digit() {
                value = value * 10 + (text[k] - b'0') as u32;
                k += 1;
            }
            return value;
        }
        at += 1;
    }
    panic!("no such WGSL constant")
}

/// True when `text` holds `pattern` at `at`.
const fn starts_at(text: &[u8], at: usize, pattern: &[u8]) -> bool {
    if at + pattern.len() > text.len() {
        return false;
    }
    let mut i = 0;
    while i < pattern.len() {
        if text[at + i] != pattern[i] {
            return false;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::wgsl_const;

    #[test]
    fn reads_a_constant_by_its_whole_name() {
        let source = "const RUNS: u32 = 7u;\n// const RUN\nconst RUN: u32 = 2u;\n";
        assert_eq!(wgsl_const(source, "RUN"), 2);
        assert_eq!(wgsl_const(source, "RUNS"), 7);
    }
}
