//! Reading pings: files and directories of `.json` / `.ndjson` / `.jsonl` documents, optionally
//! gzip- or zstd-compressed, or NDJSON on stdin, cut into [`Chunk`]s of whole documents.
//!
//! An input that cannot be opened or read is an error. A compressed stream that turns out to be
//! corrupt or truncated is *damage*: the documents before the damage are kept, the rest of that
//! input is lost, and the damage is counted in the [`Report`] (`inputs_damaged`).

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::error::{Error, Result};
use crate::reject::{InputDamage, PingReject};
use crate::report::Report;

/// How documents are laid out in an input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One JSON document (`.json`), possibly spread over many lines.
    Document,
    /// One JSON document per line (`.ndjson`, `.jsonl`, stdin, any other name).
    Lines,
}

/// How an input is compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// Plain text.
    None,
    /// gzip (`.gz`; concatenated members are read in sequence).
    Gzip,
    /// zstd (`.zst`).
    Zstd,
}

/// Where an input comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// A file.
    File(PathBuf),
    /// Standard input (NDJSON; gzip or zstd are recognised by their magic bytes).
    Stdin,
}

/// One input to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input {
    /// File or stdin.
    pub source: Source,
    /// Documents per file or per line.
    pub format: Format,
    /// Compression.
    pub compression: Compression,
    /// Size in bytes as stored, when known (for progress).
    pub size: Option<u64>,
}

/// What a file name says about its content: `None` for names that are not ping files.
fn kind_of(name: &str) -> Option<(Format, Compression)> {
    let lower = name.to_ascii_lowercase();
    let (stem, compression) = if let Some(s) = lower.strip_suffix(".gz") {
        (s, Compression::Gzip)
    } else if let Some(s) = lower.strip_suffix(".zst") {
        (s, Compression::Zstd)
    } else {
        (lower.as_str(), Compression::None)
    };
    if stem.ends_with(".json") {
        Some((Format::Document, compression))
    } else if stem.ends_with(".ndjson") || stem.ends_with(".jsonl") {
        Some((Format::Lines, compression))
    } else {
        None
    }
}

impl Input {
    /// The input for a file named explicitly: format and compression from its extension
    /// (`.json`, `.ndjson`, `.jsonl`, each optionally followed by `.gz` or `.zst`); any other
    /// name is read as NDJSON, compressed if it ends in `.gz` or `.zst`.
    ///
    /// ```
    /// use mozaggregator_core::input::{Compression, Format, Input};
    /// let i = Input::file("pings/day1.ndjson.zst");
    /// assert_eq!((i.format, i.compression), (Format::Lines, Compression::Zstd));
    /// assert_eq!(Input::file("one.json").format, Format::Document);
    /// ```
    pub fn file(path: impl Into<PathBuf>) -> Input {
        let path = path.into();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let (format, compression) = name.as_deref().and_then(kind_of).unwrap_or_else(|| {
            let n = name.as_deref().unwrap_or("").to_ascii_lowercase();
            let c = if n.ends_with(".gz") {
                Compression::Gzip
            } else if n.ends_with(".zst") {
                Compression::Zstd
            } else {
                Compression::None
            };
            (Format::Lines, c)
        });
        let size = std::fs::metadata(&path).ok().map(|m| m.len());
        Input {
            source: Source::File(path),
            format,
            compression,
            size,
        }
    }

    /// Standard input, NDJSON.
    pub fn stdin() -> Input {
        Input {
            source: Source::Stdin,
            format: Format::Lines,
            compression: Compression::None,
            size: None,
        }
    }

    /// A name for messages.
    pub fn name(&self) -> String {
        match &self.source {
            Source::File(p) => p.display().to_string(),
            Source::Stdin => "<stdin>".to_string(),
        }
    }
}

/// Expands command-line inputs: `-` is stdin; a file is read whatever its name (see
/// [`Input::file`]); a directory is walked recursively, in name order, keeping files named
/// `*.json`, `*.ndjson`, `*.jsonl`, optionally followed by `.gz` or `.zst`.
///
/// # Errors
/// [`Error::Io`] when a path does not exist or a directory cannot be listed.
pub fn discover<P: AsRef<Path>>(paths: &[P]) -> Result<Vec<Input>> {
    Ok(discover_listing(paths)?.0)
}

/// [`discover`], also returning the files found in directories that were left out because their
/// names are not ping-file names (`README.md`, `notes.txt`, …), in walk order.
///
/// # Errors
/// As [`discover`].
pub fn discover_listing<P: AsRef<Path>>(paths: &[P]) -> Result<(Vec<Input>, Vec<PathBuf>)> {
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    for path in paths {
        let path = path.as_ref();
        if path.as_os_str() == "-" {
            out.push(Input::stdin());
            continue;
        }
        let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        if meta.is_dir() {
            walk(path, &mut out, &mut skipped)?;
        } else {
            out.push(Input::file(path));
        }
    }
    Ok((out, skipped))
}

fn walk(dir: &Path, out: &mut Vec<Input>, skipped: &mut Vec<PathBuf>) -> Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .map(|e| e.map(|e| e.path()).map_err(|e| Error::io(dir, e)))
        .collect::<Result<_>>()?;
    entries.sort();
    for path in entries {
        let meta = std::fs::metadata(&path).map_err(|e| Error::io(&path, e))?;
        if meta.is_dir() {
            walk(&path, out, skipped)?;
        } else if path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(kind_of)
            .is_some()
        {
            out.push(Input::file(path));
        } else {
            skipped.push(path);
        }
    }
    Ok(())
}

/// A piece of input: whole documents only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chunk {
    /// The bytes.
    pub data: Vec<u8>,
    /// One document, or documents separated by `\n`.
    pub format: Format,
}

impl Chunk {
    /// The documents of the chunk, skipping blank lines.
    pub fn documents(&self) -> impl Iterator<Item = &[u8]> {
        let data = &self.data[..];
        let whole = (self.format == Format::Document).then_some(data);
        let lines = (self.format == Format::Lines).then(|| {
            let mut start = 0;
            memchr::memchr_iter(b'\n', data)
                .chain(std::iter::once(data.len()))
                .map(move |end| {
                    let line = &data[start.min(end)..end];
                    start = end + 1;
                    line
                })
        });
        whole
            .into_iter()
            .chain(lines.into_iter().flatten())
            .filter(|d| !d.iter().all(u8::is_ascii_whitespace))
    }
}

/// Chunk buffers handed back after use, so reading reuses memory instead of faulting in fresh
/// pages for every chunk.
#[derive(Debug, Default)]
pub struct BufferPool {
    buffers: Mutex<Vec<Vec<u8>>>,
}

impl BufferPool {
    /// Most buffers kept.
    const MAX: usize = 64;

    /// An empty pool.
    pub fn new() -> Self {
        Self::default()
    }

    /// A cleared buffer with at least `capacity` bytes of capacity.
    pub fn get(&self, capacity: usize) -> Vec<u8> {
        let reused = self
            .buffers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        match reused {
            Some(mut b) => {
                b.clear();
                b.reserve(capacity);
                b
            }
            None => Vec::with_capacity(capacity),
        }
    }

    /// Gives a buffer back.
    pub fn put(&self, buffer: Vec<u8>) {
        let mut buffers = self.buffers.lock().unwrap_or_else(PoisonError::into_inner);
        if buffers.len() < Self::MAX {
            buffers.push(buffer);
        }
    }
}

/// Counts the bytes read from the underlying file, and remembers whether *it* failed (as
/// opposed to the decompressor reading from it).
struct Counting<R> {
    inner: R,
    bytes: Arc<AtomicU64>,
    failed: Arc<AtomicBool>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                self.bytes.fetch_add(n as u64, Ordering::Relaxed);
                Ok(n)
            }
            Err(e) => {
                if e.kind() != io::ErrorKind::Interrupted {
                    self.failed.store(true, Ordering::Relaxed);
                }
                Err(e)
            }
        }
    }
}

/// Options of [`read_input`].
#[derive(Clone, Debug)]
pub struct ReadOptions {
    /// Target size of a chunk of lines, in bytes.
    pub chunk_size: usize,
    /// Longest line buffered, in bytes: a line that grows the read buffer beyond this without
    /// ending is skipped and rejected as `line_too_long` (keeps memory bounded).
    pub max_line: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self {
            chunk_size: 1 << 20,
            max_line: 256 << 20,
        }
    }
}

/// Reads `input`, handing whole documents to `sink` in chunks; `sink` returns false to stop.
/// `bytes` counts the bytes read from storage as they are read (for progress); chunk buffers
/// come from `pool` (give them back with [`BufferPool::put`]). The report gets `files_read`,
/// `input_bytes`, damaged inputs and overlong lines.
///
/// # Errors
/// [`Error::Io`] when the input cannot be opened or read (not for damaged compressed data).
pub fn read_input(
    input: &Input,
    options: &ReadOptions,
    pool: &BufferPool,
    bytes: &Arc<AtomicU64>,
    report: &mut Report,
    sink: &mut dyn FnMut(Chunk) -> bool,
) -> Result<()> {
    let failed = Arc::new(AtomicBool::new(false));
    let before = bytes.load(Ordering::Relaxed);
    let counting = Counting {
        inner: open_raw(input)?,
        bytes: Arc::clone(bytes),
        failed: Arc::clone(&failed),
    };
    let (mut reader, compression) = decompress(input, counting)?;
    // A compressed stream that fails is damage (counted, the job goes on); a plain input that
    // fails to read is an error.
    let damage = match compression {
        Compression::Gzip => Some(InputDamage::CorruptGzip),
        Compression::Zstd => Some(InputDamage::CorruptZstd),
        Compression::None => None,
    };
    let result = match input.format {
        Format::Document => read_document(&mut reader, sink),
        Format::Lines => read_lines(&mut reader, options, pool, report, sink),
    };
    report.files_read += 1;
    report.input_bytes += bytes.load(Ordering::Relaxed).saturating_sub(before);
    match (result, damage) {
        (Ok(()), _) => Ok(()),
        (Err(e), Some(damage)) if !failed.load(Ordering::Relaxed) => {
            report.damaged_input(damage);
            report.name_damaged_input(&input.name(), damage, &e.to_string());
            Ok(())
        }
        (Err(e), _) => Err(Error::io(input.name(), e)),
    }
}

/// Opens `input` for reading, decompressed: gzip and zstd by the file name (see
/// [`Input::file`]), or on stdin by their magic bytes. What `aggregate` reads pings with, for
/// other readers of the same inputs (`import`).
///
/// ```
/// use std::io::Read;
/// use mozaggregator_core::input::{open, Input};
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("rows.ndjson.gz");
/// let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
/// std::io::Write::write_all(&mut gz, b"{}\n").unwrap();
/// std::fs::write(&path, gz.finish().unwrap()).unwrap();
/// let mut text = String::new();
/// open(&Input::file(&path)).unwrap().read_to_string(&mut text).unwrap();
/// assert_eq!(text, "{}\n");
/// ```
///
/// # Errors
/// [`Error::Io`] when the input cannot be opened (or its first bytes read).
pub fn open(input: &Input) -> Result<Box<dyn Read + Send>> {
    Ok(decompress(input, open_raw(input)?)?.0)
}

/// The input's bytes as stored.
fn open_raw(input: &Input) -> Result<Box<dyn Read + Send>> {
    Ok(match &input.source {
        Source::File(path) => Box::new(File::open(path).map_err(|e| Error::io(path, e))?),
        Source::Stdin => Box::new(io::stdin()),
    })
}

/// `raw` decompressed as `input` says (on stdin: as its magic bytes say), with the compression
/// found.
fn decompress<R: Read + Send + 'static>(
    input: &Input,
    mut raw: R,
) -> Result<(Box<dyn Read + Send>, Compression)> {
    let mut compression = input.compression;
    let mut head = Vec::new();
    if input.source == Source::Stdin {
        // Sniff the magic bytes of gzip (1f 8b) and zstd (28 b5 2f fd).
        let mut magic = [0u8; 4];
        let mut got = 0;
        while got < 4 {
            match raw.read(&mut magic[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::io(input.name(), e)),
            }
        }
        head.extend_from_slice(&magic[..got]);
        if head.starts_with(&[0x1f, 0x8b]) {
            compression = Compression::Gzip;
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            compression = Compression::Zstd;
        }
    }
    let chained = io::Cursor::new(head).chain(raw);
    let reader: Box<dyn Read + Send> = match compression {
        Compression::None => Box::new(chained),
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(chained)),
        Compression::Zstd => match zstd::stream::read::Decoder::new(chained) {
            Ok(d) => Box::new(d),
            Err(e) => return Err(Error::io(input.name(), e)),
        },
    };
    Ok((reader, compression))
}

fn read_document(reader: &mut dyn Read, sink: &mut dyn FnMut(Chunk) -> bool) -> io::Result<()> {
    let mut data = Vec::new();
    reader.read_to_end(&mut data)?;
    sink(Chunk {
        data,
        format: Format::Document,
    });
    Ok(())
}

fn read_lines(
    reader: &mut dyn Read,
    options: &ReadOptions,
    pool: &BufferPool,
    report: &mut Report,
    sink: &mut dyn FnMut(Chunk) -> bool,
) -> io::Result<()> {
    let chunk_size = options.chunk_size.max(1);
    let capacity = chunk_size + (chunk_size >> 2);
    let mut buf: Vec<u8> = pool.get(capacity);
    // Bytes of `buf` already searched for a newline without finding one.
    let mut searched = 0usize;
    // Skipping the rest of an overlong line.
    let mut skipping = false;
    loop {
        let len = buf.len();
        let want = (chunk_size + (chunk_size >> 2))
            .saturating_sub(len)
            .max(64 << 10);
        buf.resize(len + want, 0);
        let n = loop {
            match reader.read(&mut buf[len..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    buf.truncate(len);
                    // Whole lines read before the damage are kept.
                    if !skipping {
                        if let Some(i) = memchr::memrchr(b'\n', &buf) {
                            buf.truncate(i + 1);
                            sink(Chunk {
                                data: buf,
                                format: Format::Lines,
                            });
                        }
                    }
                    return Err(e);
                }
            }
        };
        buf.truncate(len + n);
        if n == 0 {
            if !buf.is_empty() && !skipping {
                sink(Chunk {
                    data: buf,
                    format: Format::Lines,
                });
            }
            return Ok(());
        }
        if skipping {
            match memchr::memchr(b'\n', &buf) {
                Some(i) => {
                    buf.drain(..=i);
                    skipping = false;
                    searched = 0;
                }
                None => {
                    buf.clear();
                    continue;
                }
            }
        }
        if buf.len() < chunk_size {
            continue;
        }
        match memchr::memrchr(b'\n', &buf[searched..]) {
            Some(i) => {
                let cut = searched + i + 1;
                let mut next = pool.get(capacity);
                next.extend_from_slice(&buf[cut..]);
                buf.truncate(cut);
                let full = std::mem::replace(&mut buf, next);
                searched = 0;
                if !sink(Chunk {
                    data: full,
                    format: Format::Lines,
                }) {
                    return Ok(());
                }
            }
            None if buf.len() > options.max_line => {
                report.pings_read += 1;
                report.reject_ping(PingReject::LineTooLong);
                buf.clear();
                searched = 0;
                skipping = true;
            }
            None => searched = buf.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_decide_format_and_compression() {
        assert_eq!(
            kind_of("a.JSON.gz"),
            Some((Format::Document, Compression::Gzip))
        );
        assert_eq!(kind_of("a.jsonl"), Some((Format::Lines, Compression::None)));
        assert_eq!(kind_of("a.txt"), None);
        let i = Input::file("x.log.gz");
        assert_eq!(
            (i.format, i.compression),
            (Format::Lines, Compression::Gzip)
        );
    }

    #[test]
    fn lines_are_cut_at_newlines_and_blank_lines_skipped() {
        let text = b"{\"a\":1}\n\n  \r\n{\"b\":2}\r\n{\"c\":3}".to_vec();
        for chunk_size in [1, 3, 8, 1000] {
            let mut chunks = Vec::new();
            let mut report = Report::default();
            read_lines(
                &mut &text[..],
                &ReadOptions {
                    chunk_size,
                    max_line: 1 << 20,
                },
                &BufferPool::new(),
                &mut report,
                &mut |c| {
                    chunks.push(c);
                    true
                },
            )
            .unwrap();
            let docs: Vec<&[u8]> = chunks.iter().flat_map(Chunk::documents).collect();
            assert_eq!(
                docs,
                vec![&b"{\"a\":1}"[..], b"{\"b\":2}\r", b"{\"c\":3}"],
                "chunk size {chunk_size}"
            );
            for c in &chunks[..chunks.len() - 1] {
                assert_eq!(c.data.last(), Some(&b'\n'));
            }
        }
    }

    #[test]
    fn overlong_lines_are_skipped_and_counted() {
        let mut text = vec![b'x'; 300_000];
        text.extend_from_slice(b"\n{}\n");
        let mut docs = Vec::new();
        let mut report = Report::default();
        read_lines(
            &mut &text[..],
            &ReadOptions {
                chunk_size: 100,
                max_line: 100_000,
            },
            &BufferPool::new(),
            &mut report,
            &mut |c| {
                docs.extend(c.documents().map(<[u8]>::to_vec));
                true
            },
        )
        .unwrap();
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0], b"{}");
        assert_eq!(report.pings_rejected["line_too_long"], 1);
    }
}
