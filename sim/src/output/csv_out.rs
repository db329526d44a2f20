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

#[cfg(test)]
mod tests {
    use super::*;

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
