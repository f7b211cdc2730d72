//! NumPy's `.npy` format (versions 1.0, 2.0 and 3.0), the way client matrices travel:
//! every numerical user already has `numpy.save`/`numpy.load`. Only what the network
//! computes is accepted — C-order 2-D arrays of little-endian `<f4` (f32) or `<f2`
//! (f16) — and everything else is refused with a typed error that says what to change
//! (wrong dtype, Fortran order, wrong shape, truncated, oversized, trailing bytes), so a
//! client gets a 400 with the reason instead of a wrong answer.
//!
//! Layout of a file: the magic `\x93NUMPY`, a major and minor version byte, the header
//! length (u16 little-endian in 1.0, u32 in 2.0/3.0), then a Python dict literal such as
//! `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }` padded with spaces to
//! a multiple of 64 bytes and ended by `\n`, then the raw values, row-major.

/// The magic string every `.npy` file starts with.
pub const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// Longest header accepted (numpy itself refuses headers over 10,000 bytes by default).
pub const MAX_HEADER_LEN: usize = 10_000;

/// The element types the network computes with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dtype {
    /// `<f4`: IEEE binary32, little-endian.
    F32,
    /// `<f2`: IEEE binary16, little-endian.
    F16,
}

impl Dtype {
    /// Bytes per value.
    pub const fn size(self) -> usize {
        match self {
            Self::F32 => 4,
            Self::F16 => 2,
        }
    }

    /// The `descr` numpy writes for it.
    pub const fn descr(self) -> &'static str {
        match self {
            Self::F32 => "<f4",
            Self::F16 => "<f2",
        }
    }

    /// The job precision of inputs of this type.
    pub const fn precision(self) -> crate::Precision {
        match self {
            Self::F32 => crate::Precision::F32,
            Self::F16 => crate::Precision::F16,
        }
    }
}

/// Why bytes are not an acceptable `.npy` matrix. The messages are sent to clients.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NpyError {
    /// Does not start with `\x93NUMPY`.
    #[error("not a .npy file (it does not start with \\x93NUMPY; save it with numpy.save)")]
    BadMagic,
    /// A format version other than 1.0, 2.0 or 3.0.
    #[error(".npy format version {major}.{minor} is not supported (1.0, 2.0 and 3.0 are)")]
    UnsupportedVersion {
        /// Major version byte.
        major: u8,
        /// Minor version byte.
        minor: u8,
    },
    /// The file ends before its header or data does.
    #[error("truncated .npy: {expected} bytes expected, {got} present")]
    Truncated {
        /// Bytes the header says the file has.
        expected: u64,
        /// Bytes present.
        got: u64,
    },
    /// The header is not the dict literal numpy writes.
    #[error("malformed .npy header: {0}")]
    BadHeader(String),
    /// A dtype other than `<f4`/`<f2`.
    #[error("dtype {0:?} is not supported: convert with a.astype(numpy.float32) (or numpy.float16 for f16 jobs)")]
    UnsupportedDtype(String),
    /// Column-major data.
    #[error("fortran_order is True: save a C-order array (numpy.ascontiguousarray(a))")]
    FortranOrder,
    /// Not a 2-D array.
    #[error("shape {0:?} is not a matrix: a 2-D array (rows, cols) is expected")]
    NotTwoDimensional(Vec<u64>),
    /// More values than allowed.
    #[error("the array holds {bytes} bytes of data, more than the {max} allowed")]
    TooLarge {
        /// Data bytes the shape implies.
        bytes: u64,
        /// The cap.
        max: u64,
    },
    /// Bytes after the data.
    #[error("{0} unexpected bytes after the data (the shape says the data ends earlier)")]
    TrailingBytes(u64),
}

/// What a `.npy` header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Element type.
    pub dtype: Dtype,
    /// Rows (first dimension).
    pub rows: usize,
    /// Columns (second dimension).
    pub cols: usize,
    /// Offset of the first value in the file.
    pub data_offset: usize,
}

impl Header {
    /// Bytes of data the shape implies.
    pub fn data_len(&self) -> usize {
        self.rows * self.cols * self.dtype.size()
    }
}

/// Parses and checks a `.npy` header and that the file holds exactly the data it
/// announces, with at most `max_data_bytes` of data.
pub fn read_header(bytes: &[u8], max_data_bytes: u64) -> Result<Header, NpyError> {
    let got = bytes.len() as u64;
    if bytes.len() < 8 {
        return Err(if bytes.len() < MAGIC.len() && MAGIC.starts_with(bytes) {
            NpyError::Truncated { expected: 10, got }
        } else if !bytes.starts_with(MAGIC) {
            NpyError::BadMagic
        } else {
            NpyError::Truncated { expected: 10, got }
        });
    }
    if &bytes[..6] != MAGIC {
        return Err(NpyError::BadMagic);
    }
    let (major, minor) = (bytes[6], bytes[7]);
    let (len_bytes, utf8) = match (major, minor) {
        (1, 0) => (2usize, false),
        (2, 0) => (4, false),
        (3, 0) => (4, true),
        _ => return Err(NpyError::UnsupportedVersion { major, minor }),
    };
    let prefix = 8 + len_bytes;
    if bytes.len() < prefix {
        return Err(NpyError::Truncated { expected: prefix as u64, got });
    }
    let header_len = if len_bytes == 2 {
        usize::from(u16::from_le_bytes([bytes[8], bytes[9]]))
    } else {
        u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize
    };
    if header_len > MAX_HEADER_LEN {
        return Err(NpyError::BadHeader(format!("header of {header_len} bytes (at most {MAX_HEADER_LEN})")));
    }
    let data_offset = prefix + header_len;
    if bytes.len() < data_offset {
        return Err(NpyError::Truncated { expected: data_offset as u64, got });
    }
    let raw = &bytes[prefix..data_offset];
    let text: String = if utf8 {
        std::str::from_utf8(raw).map_err(|_| NpyError::BadHeader("header is not UTF-8".into()))?.to_owned()
    } else {
        raw.iter().map(|&b| char::from(b)).collect()
    };
    let dict = parse_dict(&text)?;
    let dtype = match dict.descr.as_str() {
        "<f4" => Dtype::F32,
        "<f2" => Dtype::F16,
        other => return Err(NpyError::UnsupportedDtype(other.to_owned())),
    };
    if dict.fortran_order {
        return Err(NpyError::FortranOrder);
    }
    let [rows, cols] = dict.shape[..] else { return Err(NpyError::NotTwoDimensional(dict.shape)) };
    let data = rows
        .checked_mul(cols)
        .and_then(|x| x.checked_mul(dtype.size() as u64))
        .ok_or(NpyError::TooLarge { bytes: u64::MAX, max: max_data_bytes })?;
    if data > max_data_bytes {
        return Err(NpyError::TooLarge { bytes: data, max: max_data_bytes });
    }
    let expected = data_offset as u64 + data;
    if got < expected {
        return Err(NpyError::Truncated { expected, got });
    }
    if got > expected {
        return Err(NpyError::TrailingBytes(got - expected));
    }
    let to_usize = |x: u64| usize::try_from(x).map_err(|_| NpyError::TooLarge { bytes: data, max: max_data_bytes });
    Ok(Header { dtype, rows: to_usize(rows)?, cols: to_usize(cols)?, data_offset })
}

/// The three keys of a header.
struct Dict {
    descr: String,
    fortran_order: bool,
    shape: Vec<u64>,
}

/// A tiny parser for the one dict literal numpy writes (keys in any order, either
/// quote style, trailing commas, whitespace anywhere).
fn parse_dict(text: &str) -> Result<Dict, NpyError> {
    let bad = |why: &str| NpyError::BadHeader(why.to_owned());
    let mut p = Parser { s: text.trim_end_matches(['\n', ' ', '\0']).as_bytes(), i: 0 };
    p.expect(b'{')?;
    let (mut descr, mut fortran, mut shape) = (None, None, None);
    loop {
        p.ws();
        if p.eat(b'}') {
            break;
        }
        let key = p.string()?;
        p.ws();
        p.expect(b':')?;
        p.ws();
        match key.as_str() {
            "descr" => descr = Some(p.string().map_err(|_| bad("descr must be a string such as '<f4'"))?),
            "fortran_order" => fortran = Some(p.boolean()?),
            "shape" => shape = Some(p.tuple()?),
            other => return Err(NpyError::BadHeader(format!("unexpected key {other:?}"))),
        }
        p.ws();
        if !p.eat(b',') {
            p.ws();
            p.expect(b'}')?;
            break;
        }
    }
    p.ws();
    if p.i != p.s.len() {
        return Err(bad("text after the header dict"));
    }
    Ok(Dict {
        descr: descr.ok_or_else(|| bad("no 'descr' key"))?,
        fortran_order: fortran.ok_or_else(|| bad("no 'fortran_order' key"))?,
        shape: shape.ok_or_else(|| bad("no 'shape' key"))?,
    })
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: u8) -> Result<(), NpyError> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(NpyError::BadHeader(format!("expected {:?} at byte {}", char::from(c), self.i)))
        }
    }

    fn string(&mut self) -> Result<String, NpyError> {
        let q = match self.s.get(self.i) {
            Some(&q @ (b'\'' | b'"')) => q,
            _ => return Err(NpyError::BadHeader(format!("expected a quoted string at byte {}", self.i))),
        };
        self.i += 1;
        let start = self.i;
        while self.i < self.s.len() && self.s[self.i] != q {
            self.i += 1;
        }
        if self.i == self.s.len() {
            return Err(NpyError::BadHeader("unterminated string".into()));
        }
        let out = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
        self.i += 1;
        Ok(out)
    }

    fn boolean(&mut self) -> Result<bool, NpyError> {
        let rest = &self.s[self.i..];
        if rest.starts_with(b"True") {
            self.i += 4;
            Ok(true)
        } else if rest.starts_with(b"False") {
            self.i += 5;
            Ok(false)
        } else {
            Err(NpyError::BadHeader("fortran_order must be True or False".into()))
        }
    }

    fn tuple(&mut self) -> Result<Vec<u64>, NpyError> {
        self.expect(b'(')?;
        let mut dims = Vec::new();
        loop {
            self.ws();
            if self.eat(b')') {
                return Ok(dims);
            }
            let start = self.i;
            while self.i < self.s.len() && self.s[self.i].is_ascii_digit() {
                self.i += 1;
            }
            if start == self.i || self.i - start > 19 {
                return Err(NpyError::BadHeader("shape must be a tuple of non-negative integers".into()));
            }
            let text = std::str::from_utf8(&self.s[start..self.i]).map_err(|_| NpyError::BadHeader("shape".into()))?;
            dims.push(text.parse().map_err(|_| NpyError::BadHeader("shape dimension too large".into()))?);
            if dims.len() > 32 {
                return Err(NpyError::BadHeader("more than 32 dimensions".into()));
            }
            self.ws();
            if !self.eat(b',') {
                self.ws();
                self.expect(b')')?;
                return Ok(dims);
            }
        }
    }
}

/// A matrix read from a `.npy` file; f16 values are widened to f32 (exactly).
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    /// The file's element type.
    pub dtype: Dtype,
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
    /// rows·cols values, row-major.
    pub data: Vec<f32>,
}

/// Reads a whole `.npy` matrix (at most `max_data_bytes` of data).
pub fn read(bytes: &[u8], max_data_bytes: u64) -> Result<Matrix, NpyError> {
    let h = read_header(bytes, max_data_bytes)?;
    Ok(Matrix { dtype: h.dtype, rows: h.rows, cols: h.cols, data: decode(h.dtype, &bytes[h.data_offset..]) })
}

/// Reads rows `start..start + count` of a `.npy` matrix whose header is `h` (from
/// [`read_header`] on the same bytes); `None` if the rows are out of range.
pub fn read_rows(bytes: &[u8], h: &Header, start: usize, count: usize) -> Option<Vec<f32>> {
    let end = start.checked_add(count)?;
    if end > h.rows {
        return None;
    }
    let row_bytes = h.cols * h.dtype.size();
    let from = h.data_offset + start * row_bytes;
    let to = h.data_offset + end * row_bytes;
    Some(decode(h.dtype, bytes.get(from..to)?))
}

/// Little-endian values of `dtype` to f32.
pub fn decode(dtype: Dtype, data: &[u8]) -> Vec<f32> {
    match dtype {
        Dtype::F32 => data.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect(),
        Dtype::F16 => data.chunks_exact(2).map(|b| f16_to_f32(u16::from_le_bytes([b[0], b[1]]))).collect(),
    }
}

/// The header block (magic, version, length, dict, padding) for a C-order matrix.
pub fn header_bytes(dtype: Dtype, rows: usize, cols: usize) -> Vec<u8> {
    let dict = format!("{{'descr': '{}', 'fortran_order': False, 'shape': ({rows}, {cols}), }}", dtype.descr());
    // Version 1.0 unless the header does not fit its u16 length (never, for 2-D).
    let (version, len_bytes) = if dict.len() + 1 + 10 <= 65_535 { (1u8, 2usize) } else { (2, 4) };
    let unpadded = 8 + len_bytes + dict.len() + 1;
    let total = unpadded.div_ceil(64) * 64;
    let header_len = total - 8 - len_bytes;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[version, 0]);
    if len_bytes == 2 {
        out.extend_from_slice(&(header_len as u16).to_le_bytes());
    } else {
        out.extend_from_slice(&(header_len as u32).to_le_bytes());
    }
    out.extend_from_slice(dict.as_bytes());
    out.resize(total - 1, b' ');
    out.push(b'\n');
    out
}

/// A `.npy` file of a row-major f32 matrix. `data.len()` must be rows·cols.
pub fn write_f32(rows: usize, cols: usize, data: &[f32]) -> Vec<u8> {
    debug_assert_eq!(data.len(), rows * cols);
    let mut out = header_bytes(Dtype::F32, rows, cols);
    out.reserve(data.len() * 4);
    for x in data {
        out.extend_from_slice(&x.to_le_bytes());
    }
    out
}

/// A `.npy` file of a row-major f16 matrix given as f32 values (rounded to nearest f16).
pub fn write_f16(rows: usize, cols: usize, data: &[f32]) -> Vec<u8> {
    debug_assert_eq!(data.len(), rows * cols);
    let mut out = header_bytes(Dtype::F16, rows, cols);
    out.reserve(data.len() * 2);
    for &x in data {
        out.extend_from_slice(&f32_to_f16(x).to_le_bytes());
    }
    out
}

/// IEEE binary16 bits to f32 (exact: every f16 is an f32).
pub fn f16_to_f32(h: u16) -> f32 {
    let sign = u32::from(h >> 15) << 31;
    let exp = u32::from((h >> 10) & 0x1f);
    let man = u32::from(h & 0x3ff);
    let bits = match (exp, man) {
        (0, 0) => sign,
        (0, _) => {
            // Subnormal: value = man · 2⁻²⁴; normalise it.
            let shift = man.leading_zeros() - 21; // bring the top bit to position 10
            let man = (man << shift) & 0x3ff;
            let exp = 127 - 15 + 1 - shift;
            sign | (exp << 23) | (man << 13)
        }
        (0x1f, 0) => sign | 0x7f80_0000,
        (0x1f, _) => sign | 0x7fc0_0000 | (man << 13),
        _ => sign | ((exp + 127 - 15) << 23) | (man << 13),
    };
    f32::from_bits(bits)
}

/// f32 to IEEE binary16 bits, rounding to nearest, ties to even (overflow → ±inf).
pub fn f32_to_f16(x: f32) -> u16 {
    let bits = x.to_bits();
    let sign = ((bits >> 16) & 0x8000) as u16;
    let exp = ((bits >> 23) & 0xff) as i32;
    let man = bits & 0x7f_ffff;
    if exp == 0xff {
        return sign | 0x7c00 | if man != 0 { 0x200 | (man >> 13) as u16 } else { 0 };
    }
    let e = exp - 127 + 15;
    if e >= 0x1f {
        return sign | 0x7c00;
    }
    if e <= 0 {
        if e < -10 {
            return sign;
        }
        // Subnormal result: shift the full mantissa (with its hidden bit) right.
        let full = man | 0x80_0000;
        let shift = (14 - e) as u32;
        let half = full >> shift;
        let rem = full & ((1 << shift) - 1);
        let mid = 1 << (shift - 1);
        let rounded = if rem > mid || (rem == mid && half & 1 == 1) { half + 1 } else { half };
        return sign | rounded as u16;
    }
    let half = ((e as u32) << 10) | (man >> 13);
    let rem = man & 0x1fff;
    // A carry out of the mantissa correctly bumps the exponent (up to inf).
    let rounded = if rem > 0x1000 || (rem == 0x1000 && half & 1 == 1) { half + 1 } else { half };
    sign | rounded as u16
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const BIG: u64 = 1 << 30;

    fn with_header(version: u8, dict: &str, data: &[u8]) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&[version, 0]);
        let text = format!("{dict}\n");
        if version == 1 {
            out.extend_from_slice(&(text.len() as u16).to_le_bytes());
        } else {
            out.extend_from_slice(&(text.len() as u32).to_le_bytes());
        }
        out.extend_from_slice(text.as_bytes());
        out.extend_from_slice(data);
        out
    }

    #[test]
    fn reads_what_numpy_writes_in_every_version() {
        // numpy.save(np.arange(6, dtype=np.float32).reshape(2, 3)): header padded to 64.
        let data: Vec<u8> = (0..6).flat_map(|i| (i as f32).to_le_bytes()).collect();
        for version in [1, 2, 3] {
            let file = with_header(version, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", &data);
            let m = read(&file, BIG).unwrap();
            assert_eq!((m.dtype, m.rows, m.cols), (Dtype::F32, 2, 3));
            assert_eq!(m.data, vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
        }
        // Double quotes, other key order, no trailing comma.
        let file = with_header(1, "{\"shape\": (2,3), \"fortran_order\": False, \"descr\": \"<f4\"}", &data);
        assert_eq!(read(&file, BIG).unwrap().cols, 3);
        let ours = write_f32(2, 3, &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(ours.len() % 64, 24); // header is a multiple of 64, data 24 bytes
        assert_eq!(&ours[ours.len() - 24..], &data[..]);
        assert_eq!(read_header(&ours, BIG).unwrap().data_offset % 64, 0);
    }

    #[test]
    fn every_bad_input_has_its_error() {
        let data: Vec<u8> = (0..6).flat_map(|i| (i as f32).to_le_bytes()).collect();
        let f = |dict: &str| with_header(1, dict, &data);
        assert_eq!(read(b"PK\x03\x04 not npy", BIG), Err(NpyError::BadMagic));
        assert!(matches!(
            read(&f("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }"), BIG),
            Err(NpyError::UnsupportedDtype(d)) if d == "<f8"
        ));
        assert!(matches!(
            read(&f("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }"), BIG),
            Err(NpyError::UnsupportedDtype(_))
        ));
        assert_eq!(
            read(&f("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }"), BIG),
            Err(NpyError::FortranOrder)
        );
        assert_eq!(
            read(&f("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }"), BIG),
            Err(NpyError::NotTwoDimensional(vec![6]))
        );
        assert_eq!(
            read(&f("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 3), }"), BIG),
            Err(NpyError::NotTwoDimensional(vec![1, 2, 3]))
        );
        assert!(matches!(
            read(&f("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 4), }"), BIG),
            Err(NpyError::Truncated { .. })
        ));
        assert_eq!(
            read(&f("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3), }"), BIG),
            Err(NpyError::TrailingBytes(12))
        );
        assert_eq!(
            read(&f("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"), 20),
            Err(NpyError::TooLarge { bytes: 24, max: 20 })
        );
        assert!(matches!(
            read(&f("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999), }"), BIG),
            Err(NpyError::TooLarge { .. })
        ));
        assert!(matches!(read(&f("{'descr': '<f4', 'shape': (2, 3)}"), BIG), Err(NpyError::BadHeader(_))));
        assert!(matches!(read(&f("not a dict"), BIG), Err(NpyError::BadHeader(_))));
        let mut v9 = write_f32(1, 1, &[1.0]);
        v9[6] = 9;
        assert_eq!(read(&v9, BIG), Err(NpyError::UnsupportedVersion { major: 9, minor: 0 }));
        assert!(matches!(read(&MAGIC[..4], BIG), Err(NpyError::Truncated { .. })));
        // Every error message says what is wrong in words.
        assert!(NpyError::FortranOrder.to_string().contains("C-order"));
    }

    #[test]
    fn f16_conversion_is_exact_and_rounds_to_nearest_even() {
        for h in 0..=u16::MAX {
            let x = f16_to_f32(h);
            if x.is_nan() {
                assert!(f16_to_f32(f32_to_f16(x)).is_nan());
            } else {
                assert_eq!(f32_to_f16(x), h, "{h:#06x} -> {x}");
            }
        }
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24));
        assert_eq!(f32_to_f16(65520.0), 0x7c00); // rounds up to inf
        assert_eq!(f32_to_f16(1.0 + 2f32.powi(-11)), 0x3c00); // tie to even (down)
        assert_eq!(f32_to_f16(1.0 + 3.0 * 2f32.powi(-11)), 0x3c02); // tie to even (up)
        assert_eq!(f32_to_f16(1e-10), 0);
        let m = read(&write_f16(1, 3, &[0.5, -2.0, 1.0 / 3.0]), BIG).unwrap();
        assert_eq!(m.dtype, Dtype::F16);
        assert_eq!(m.data[..2], [0.5, -2.0]);
        assert!((m.data[2] - 1.0 / 3.0).abs() < 1e-3);
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

        #[test]
        fn f32_matrices_round_trip(rows in 0usize..20, cols in 0usize..20, seed: u64) {
            let data = crate::inputs::seeded_matrix(seed, rows * cols);
            let file = write_f32(rows, cols, &data);
            let m = read(&file, BIG).unwrap();
            prop_assert_eq!((m.rows, m.cols, m.dtype), (rows, cols, Dtype::F32));
            prop_assert_eq!(m.data, data.clone());
            let h = read_header(&file, BIG).unwrap();
            if rows > 1 {
                prop_assert_eq!(read_rows(&file, &h, 1, rows - 1).unwrap(), data[cols..].to_vec());
            }
            prop_assert!(read_rows(&file, &h, rows, 1).is_none());
        }

        #[test]
        fn any_truncation_is_an_error_not_a_panic(rows in 1usize..8, cols in 1usize..8, cut in any::<prop::sample::Index>()) {
            let file = write_f32(rows, cols, &vec![1.5; rows * cols]);
            let at = cut.index(file.len());
            prop_assert!(read(&file[..at], BIG).is_err());
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200), tail in prop::collection::vec(any::<u8>(), 0..100)) {
            let _ = read(&bytes, BIG);
            let mut prefixed = MAGIC.to_vec();
            prefixed.extend_from_slice(&[1, 0, 60, 0]);
            prefixed.extend_from_slice(&tail);
            let _ = read(&prefixed, BIG);
        }
    }
}
