//! CSV output through the csv crate's writer, so that a field that needs quoting (a job name
//! with a comma or a quote) is quoted, while every other field keeps exactly the bytes its
//! format string gives.

use std::fmt;
use std::io::Write;

/// A CSV writer whose fields are formatted in place (one reused buffer, no allocation a field).
pub struct CsvOut<W: Write> {
    w: csv::Writer<W>,
    buf: String,
}

impl<W: Write> CsvOut<W> {
    /// `\n`-terminated records, fields quoted only when they must be.
    pub fn new(out: W) -> Self {
        CsvOut {
            w: csv::WriterBuilder::new()
                .terminator(csv::Terminator::Any(b'\n'))
                .from_writer(out),
            buf: String::new(),
        }
    }

    /// Writes a header record.
    pub fn header(&mut self, columns: &[&str]) -> std::io::Result<()> {
        Ok(self.w.write_record(columns)?)
    }

    /// Appends one field to the current record, formatted as `args` says.
    pub fn field(&mut self, args: fmt::Arguments<'_>) -> std::io::Result<&mut Self> {
        use fmt::Write as _;
        self.buf.clear();
        self.buf.write_fmt(args).map_err(std::io::Error::other)?;
        self.w.write_field(self.buf.as_bytes())?;
        Ok(self)
    }

    /// Appends one field holding `text` as it is (no formatting machinery: names, states).
    pub fn text(&mut self, text: &str) -> std::io::Result<&mut Self> {
        self.w.write_field(text.as_bytes())?;
        Ok(self)
    }

    /// Appends one field holding `n` in decimal.
    pub fn int(&mut self, n: impl itoa::Integer) -> std::io::Result<&mut Self> {
        let mut b = itoa::Buffer::new();
        self.w.write_field(b.format(n).as_bytes())?;
        Ok(self)
    }

    /// Appends one field holding `num / den` with `decimals` decimals — the bytes of
    /// `{:.decimals$}` of `num as f64 / den as f64` — by integer arithmetic where that gives the
    /// same bytes, else through the float formatter ([`quotient_digits`]).
    pub fn quotient(&mut self, num: u64, den: u64, decimals: u32) -> std::io::Result<&mut Self> {
        self.buf.clear();
        match quotient_digits(num, den, decimals) {
            Some((whole, frac)) => {
                let mut b = itoa::Buffer::new();
                self.buf.push_str(b.format(whole));
                self.buf.push('.');
                let digits = b.format(frac);
                for _ in digits.len()..decimals as usize {
                    self.buf.push('0');
                }
                self.buf.push_str(digits);
            }
            None => {
                use fmt::Write as _;
                let x = num as f64 / den as f64;
                write!(self.buf, "{x:.prec$}", prec = decimals as usize)
                    .map_err(std::io::Error::other)?;
            }
        }
        self.w.write_field(self.buf.as_bytes())?;
        Ok(self)
    }

    /// [`CsvOut::quotient`] of `(num, den)`, or an empty field for `None`.
    pub fn quotient_or_empty(
        &mut self,
        pair: Option<(u64, u64)>,
        decimals: u32,
    ) -> std::io::Result<&mut Self> {
        match pair {
            Some((num, den)) => self.quotient(num, den, decimals),
            None => self.text(""),
        }
    }

    /// Appends one field holding [`Millis`]`(ms)`'s bytes, written digit by digit.
    pub fn millis(&mut self, ms: Option<u64>) -> std::io::Result<&mut Self> {
        match ms {
            Some(ms) if ms < 1_000_000_000_000_000 => {
                self.buf.clear();
                let mut b = itoa::Buffer::new();
                self.buf.push_str(b.format(ms / 1000));
                let frac = ms % 1000;
                self.buf.push('.');
                self.buf.push(char::from(b'0' + (frac / 100) as u8));
                self.buf.push(char::from(b'0' + (frac / 10 % 10) as u8));
                self.buf.push(char::from(b'0' + (frac % 10) as u8));
                self.w.write_field(self.buf.as_bytes())?;
                Ok(self)
            }
            other => self.field(format_args!("{}", Millis(other))),
        }
    }

    /// Appends one field holding `x` as `{:.3}` writes it, digit by digit when `x` is a whole
    /// number of thousandths (a demand: milli over 1000; the float's exact value is within an
    /// ulp of it, far from a rounding boundary), else through `{:.3}`.
    pub fn thousandths(&mut self, x: f64) -> std::io::Result<&mut Self> {
        let milli = (x * 1000.0).round();
        if (0.0..1e15).contains(&milli) && milli / 1000.0 == x {
            return self.millis(Some(milli as u64));
        }
        self.field(format_args!("{x:.3}"))
    }

    /// Ends the current record.
    pub fn end(&mut self) -> std::io::Result<()> {
        Ok(self.w.write_record(None::<&[u8]>)?)
    }

    /// Flushes everything to the underlying writer (do call it: dropping loses errors).
    pub fn flush(&mut self) -> std::io::Result<()> {
        self.w.flush()
    }
}

/// An optional number printed with `.1` decimals (`OptFixed(Some(x), 3)` is `{x:.3}`), or an
/// empty field for `None`.
pub struct OptFixed(pub Option<f64>, pub usize);

impl fmt::Display for OptFixed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(x) => write!(f, "{x:.prec$}", prec = self.1),
            None => Ok(()),
        }
    }
}

/// Milliseconds printed as seconds with 3 decimals — the bytes `{:.3}` gives for
/// `ms as f64 / 1000.0` — by integer arithmetic, or an empty field for `None`. The same
/// bytes: the quotient's exact value has 3 decimals and the `f64` is within 10⁻¹⁶ of it
/// relatively, far from a rounding boundary for any time below 10¹² s. Float formatting was
/// the most expensive part of writing `jobs.csv`.
pub struct Millis(pub Option<u64>);

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(ms) if ms < 1_000_000_000_000_000 => write!(f, "{}.{:03}", ms / 1000, ms % 1000),
            Some(ms) => write!(f, "{:.3}", ms as f64 / 1000.0),
            None => Ok(()),
        }
    }
}

/// Writes one record of `out`, each field formatted by its format string:
/// `csv_record!(out, "{}", name; "{:.3}", x)`.
#[macro_export]
macro_rules! csv_record {
    ($out:expr, $($fmt:literal $(, $arg:expr)*);+ $(;)?) => {{
        let out = &mut $out;
        (|| -> std::io::Result<()> {
            $( out.field(format_args!($fmt $(, $arg)*))?; )+
            out.end()
        })()
    }};
}

/// `num / den` rounded to `decimals` decimals as (whole part, decimals as an integer), when
/// that is exactly what the float formatter prints for `num as f64 / den as f64`; `None` when
/// it might not be (then format the float). Why it is exact: the division rounds once, so
/// the float is `(num / den)(1 + δ)` with `|δ| ≤ 2⁻⁵³`, and the formatter rounds that float's
/// exact value. With `q = num · 10^decimals = n · den + r`, the exact quotient `q / den` is
/// `|2r − den| / 2den ≥ 1 / 2den` away from the rounding boundary `n + ½` unless `2r = den`
/// (a tie: left to the formatter), and the float moves it by at most `q / den · 2⁻⁵³`, less
/// than that distance whenever `q < 2⁵²` — so both round the same way. The operands must
/// also convert to `f64` exactly (below 2⁵³). Used for `jobs.csv`'s slowdown; float
/// formatting was the costliest field of that file.
pub fn quotient_digits(num: u64, den: u64, decimals: u32) -> Option<(u64, u64)> {
    const EXACT: u64 = 1 << 52;
    let scale = 10u64.checked_pow(decimals)?;
    let q = num.checked_mul(scale)?;
    if den == 0 || q >= EXACT || den >= EXACT {
        return None;
    }
    let (n, r) = (q / den, q % den);
    let rounded = match (2 * r).cmp(&den) {
        std::cmp::Ordering::Less => n,
        std::cmp::Ordering::Greater => n + 1,
        std::cmp::Ordering::Equal => return None,
    };
    Some((rounded / scale, rounded % scale))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotients_are_the_float_formatting_bytes() {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut pairs: Vec<(u64, u64)> = vec![
            (1, 3),
            (2, 3),
            (1, 8),
            (3, 16),
            (5, 2),
            (1, 20_000),
            (3, 20_000),
            (123_456_789, 1),
            (0, 7),
            (7, 7),
            (u64::MAX, 3),
            (1 << 50, 3),
            (1, (1 << 53) + 1),
        ];
        for _ in 0..50_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let num = x % 10u64.pow((x % 13) as u32 + 1);
            let den = (x >> 20) % 10u64.pow(((x >> 8) % 9) as u32 + 1) + 1;
            pairs.push((num, den));
            // Ties: den divides 2 * num * 10^4 but not num * 10^4.
            pairs.push((2 * (x % 1000) + 1, 20_000));
        }
        let mut via_integers = 0;
        for &(num, den) in &pairs {
            let mut bytes = Vec::new();
            CsvOut::new(&mut bytes)
                .quotient(num, den, 4)
                .unwrap()
                .end()
                .unwrap();
            let expected = format!("{:.4}\n", num as f64 / den as f64);
            assert_eq!(String::from_utf8(bytes).unwrap(), expected, "{num} / {den}");
            via_integers += usize::from(quotient_digits(num, den, 4).is_some());
        }
        assert!(via_integers > pairs.len() / 4, "{via_integers}");
        assert_eq!(
            quotient_digits(1, 20_000, 4),
            None,
            "a tie goes to the formatter"
        );
        assert_eq!(quotient_digits(2, 3, 4), Some((0, 6667)));
    }

    #[test]
    fn millis_are_the_float_formatting_bytes() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut values: Vec<u64> = (0..5000).collect();
        values.extend([
            999,
            1000,
            1001,
            59_999,
            86_400_000,
            u64::from(u32::MAX),
            1 << 40,
        ]);
        for _ in 0..20_000 {
            // xorshift: spread over every magnitude up to 10^15 ms
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            values.push(x % 10u64.pow((x % 16) as u32 + 1));
        }
        for &ms in &values {
            assert_eq!(
                Millis(Some(ms)).to_string(),
                format!("{:.3}", ms as f64 / 1000.0),
                "{ms}"
            );
        }
        assert_eq!(Millis(None).to_string(), "");
        // The direct writers give the same bytes.
        let mut bytes = Vec::new();
        let mut out = CsvOut::new(&mut bytes);
        let mut expected = String::new();
        for ms in values.iter().copied().take(6000) {
            out.millis(Some(ms)).unwrap().end().unwrap();
            expected.push_str(&format!("{:.3}\n", ms as f64 / 1000.0));
        }
        out.flush().unwrap();
        drop(out);
        assert_eq!(String::from_utf8(bytes).unwrap(), expected);
    }

    #[test]
    fn thousandths_are_the_float_formatting_bytes() {
        let mut xs: Vec<f64> = (0..=20_000).map(|m| f64::from(m) / 1000.0).collect();
        // Not whole thousandths: through `{:.3}`, rounding as it does.
        xs.extend([
            0.0005,
            0.0015,
            0.1234567,
            2.5e-4,
            1.0 / 3.0,
            7.9995,
            1e300,
            -0.25,
        ]);
        let mut bytes = Vec::new();
        let mut out = CsvOut::new(&mut bytes);
        let mut expected = String::new();
        for &x in &xs {
            out.thousandths(x).unwrap().end().unwrap();
            expected.push_str(&format!("{x:.3}\n"));
        }
        out.flush().unwrap();
        drop(out);
        assert_eq!(String::from_utf8(bytes).unwrap(), expected);
    }

    #[test]
    fn fields_that_need_quotes_get_them_and_others_keep_their_bytes() {
        let mut bytes = Vec::new();
        let mut out = CsvOut::new(&mut bytes);
        out.header(&["name", "x", "y"]).unwrap();
        csv_record!(out, "{}", "job, \"one\""; "{:.3}", 1.5; "{}", "").unwrap();
        csv_record!(out, "{}", "plain"; "{:.3}", -0.25; "{}", 7).unwrap();
        out.flush().unwrap();
        drop(out);
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            "name,x,y\n\"job, \"\"one\"\"\",1.500,\nplain,-0.250,7\n"
        );
    }
}
