//! A tiny, safe evaluator for the integer expressions old Histograms.json files use as numbers
//! (`"32 * 1024"`, `"(1 + 2) * 3"`, `"JS::gcreason::NUM_TELEMETRY_REASONS"`).
//!
//! Grammar: integers, the symbolic constants of [`CONSTANTS`], unary `+`/`-`, binary `+ - * /`
//! with the usual precedence, and parentheses. Arithmetic is checked `i64`; division must be
//! exact. The input length and nesting depth are bounded, so no input can exhaust the stack.

/// Longest expression accepted, in bytes.
pub const MAX_LEN: usize = 256;

/// Deepest nesting of parentheses and unary signs accepted.
pub const MAX_DEPTH: usize = 32;

/// The symbolic constants old definition files use, with the values Firefox gave them.
pub const CONSTANTS: [(&str, i64); 2] = [
    ("JS::gcreason::NUM_TELEMETRY_REASONS", 101),
    ("mozilla::StartupTimeline::MAX_EVENT_ID", 12),
];

/// Evaluates `src`; the error is a human-readable reason.
pub fn eval(src: &str) -> Result<i64, String> {
    if src.len() > MAX_LEN {
        return Err(format!(
            "expression of {} bytes is longer than {MAX_LEN}",
            src.len()
        ));
    }
    let mut parser = Parser {
        src: src.as_bytes(),
        pos: 0,
        depth: 0,
    };
    let value = parser.expr()?;
    parser.skip_space();
    if parser.pos != parser.src.len() {
        return Err(format!(
            "unexpected `{}` at offset {} in `{src}`",
            char::from(parser.src[parser.pos]),
            parser.pos
        ));
    }
    Ok(value)
}

struct Parser<'a> {
    src: &'a [u8],
    pos: usize,
    depth: usize,
}

impl Parser<'_> {
    fn skip_space(&mut self) {
        while self.src.get(self.pos).is_some_and(u8::is_ascii_whitespace) {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_space();
        self.src.get(self.pos).copied()
    }

    fn expr(&mut self) -> Result<i64, String> {
        let mut acc = self.term()?;
        while let Some(op @ (b'+' | b'-')) = self.peek() {
            self.pos += 1;
            let rhs = self.term()?;
            acc = if op == b'+' {
                acc.checked_add(rhs)
            } else {
                acc.checked_sub(rhs)
            }
            .ok_or("integer overflow")?;
        }
        Ok(acc)
    }

    fn term(&mut self) -> Result<i64, String> {
        let mut acc = self.unary()?;
        while let Some(op @ (b'*' | b'/')) = self.peek() {
            self.pos += 1;
            let rhs = self.unary()?;
            acc = if op == b'*' {
                acc.checked_mul(rhs).ok_or("integer overflow")?
            } else {
                if rhs == 0 {
                    return Err("division by zero".into());
                }
                if acc % rhs != 0 {
                    return Err(format!("{acc} / {rhs} is not an integer"));
                }
                acc.checked_div(rhs).ok_or("integer overflow")?
            };
        }
        Ok(acc)
    }

    fn unary(&mut self) -> Result<i64, String> {
        self.enter()?;
        let value = match self.peek() {
            Some(b'-') => {
                self.pos += 1;
                self.unary()?
                    .checked_neg()
                    .ok_or_else(|| "integer overflow".to_string())
            }
            Some(b'+') => {
                self.pos += 1;
                self.unary()
            }
            _ => self.primary(),
        };
        self.depth -= 1;
        value
    }

    fn enter(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!("expression nested deeper than {MAX_DEPTH}"));
        }
        Ok(())
    }

    fn primary(&mut self) -> Result<i64, String> {
        match self.peek() {
            Some(b'(') => {
                self.pos += 1;
                self.enter()?;
                let value = self.expr()?;
                self.depth -= 1;
                if self.peek() != Some(b')') {
                    return Err("missing `)`".into());
                }
                self.pos += 1;
                Ok(value)
            }
            Some(b'0'..=b'9') => {
                let start = self.pos;
                while self.src.get(self.pos).is_some_and(u8::is_ascii_digit) {
                    self.pos += 1;
                }
                let digits = std::str::from_utf8(&self.src[start..self.pos])
                    .map_err(|_| "invalid number".to_string())?;
                digits
                    .parse::<i64>()
                    .map_err(|_| format!("number `{digits}` is too large"))
            }
            Some(c) if c.is_ascii_alphabetic() || c == b'_' => {
                let start = self.pos;
                while self
                    .src
                    .get(self.pos)
                    .is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'_' || c == b':')
                {
                    self.pos += 1;
                }
                let name = std::str::from_utf8(&self.src[start..self.pos])
                    .map_err(|_| "invalid name".to_string())?;
                CONSTANTS
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|&(_, v)| v)
                    .ok_or_else(|| format!("unknown constant `{name}`"))
            }
            Some(c) if c.is_ascii_graphic() => Err(format!(
                "unexpected `{}` at offset {}",
                char::from(c),
                self.pos
            )),
            Some(_) => Err(format!("unexpected character at offset {}", self.pos)),
            None => Err("expression ends too early".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evaluates_integer_arithmetic() {
        assert_eq!(eval("10000"), Ok(10000));
        assert_eq!(eval(" 32 * 1024 "), Ok(32768));
        assert_eq!(eval("16 * 1024 * 1024"), Ok(16_777_216));
        assert_eq!(eval("2 + 3 * 4"), Ok(14));
        assert_eq!(eval("(2 + 3) * 4"), Ok(20));
        assert_eq!(eval("10 - 2 - 3"), Ok(5));
        assert_eq!(eval("60 / 4 / 3"), Ok(5));
        assert_eq!(eval("-(3 - 5)"), Ok(2));
        assert_eq!(eval("JS::gcreason::NUM_TELEMETRY_REASONS"), Ok(101));
        assert_eq!(eval("mozilla::StartupTimeline::MAX_EVENT_ID + 1"), Ok(13));
    }

    #[test]
    fn rejects_everything_else() {
        for bad in [
            "",
            "  ",
            "1 +",
            "(1",
            "1)",
            "1 2",
            "1.5",
            "1e3",
            "0x10",
            "7 / 2",
            "1 / 0",
            "9223372036854775807 + 1",
            "99999999999999999999",
            "__import__",
            "JS::gcreason::OTHER",
            "1 ; 2",
            "２",
        ] {
            assert!(eval(bad).is_err(), "{bad:?} should fail");
        }
    }

    #[test]
    fn bounds_length_and_depth() {
        let deep = format!(
            "{}1{}",
            "(".repeat(MAX_DEPTH + 5),
            ")".repeat(MAX_DEPTH + 5)
        );
        assert!(eval(&deep).is_err());
        let signs = format!("{}1", "-".repeat(MAX_DEPTH + 5));
        assert!(eval(&signs).is_err());
        let long = "1+".repeat(MAX_LEN) + "1";
        assert!(eval(&long).is_err());
        assert_eq!(eval("((((1))))"), Ok(1));
    }
}
