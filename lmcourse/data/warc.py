"""Common Crawl's file formats: reading and writing WARC and WET files, and turning one into the other.

A WARC file (ISO 28500) is a sequence of records, each a block of "Name: value" headers (WARC-Type,
WARC-Target-URI, Content-Length...) followed by exactly Content-Length bytes. A crawl's `response`
records hold the HTTP response as it came over the wire: status line, HTTP headers, then the HTML
bytes. A WET file is the same container holding `conversion` records: the plain text extracted from
each response, which is what most pretraining pipelines start from. Common Crawl gzips each record
separately (a .warc.gz is a concatenation of gzip members), so one record can be read by its offset.

`iter_warc` reads any of these (plain or gzipped, detected from the bytes) with FastWARC, and splits
HTTP responses into headers and body itself. FastWARC rather than warcio: it is the better kept of the
two (regular releases, C++ core, several times faster), and its author's Resiliparse does our HTML
extraction. `write_warc` writes the format by hand, for tests and for the chapter's tiny crawl of
generated pages; `warc_to_wet` runs `extract_text_from_html_bytes` over every HTML response.

Bad input: a file that is not WARC raises ValueError naming it; so does a truncated record (fewer bytes
than its Content-Length) or a response without the blank line that ends its HTTP headers. An empty file
is an empty archive (no records). One truncation goes unnoticed: a .gz cut within the first bytes of a
record's gzip member ends the iteration there, because FastWARC sees no record to start.

Leaves out: random access by offset (CDX indexes), digests (written records have none, read ones are not
verified), HTTP chunked transfer encoding (Common Crawl stores payloads already de-chunked), revisit
records' deduplication semantics, and downloading from Common Crawl (see `lmcourse.data.loaders.download`).
"""

from __future__ import annotations

import datetime
import gzip
import hashlib
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from fastwarc.warc import ArchiveIterator, WarcRecordType

from lmcourse.data.extract import extract_text_from_html_bytes
from lmcourse.files import atomic_write

__all__ = ["WarcRecord", "iter_warc", "write_warc", "warc_to_wet"]

RECORD_TYPES = ("warcinfo", "response", "resource", "request", "metadata", "revisit", "conversion", "continuation")
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_CONTENT_TYPES = {"warcinfo": "application/warc-fields", "conversion": "text/plain"}


@dataclass(frozen=True)
class WarcRecord:
    """One record. For `response` records `payload` is the HTTP body and `http_headers` the HTTP headers
    (with the status line under "Status"); for every other type `payload` is the whole block.
    `headers` are the WARC headers as read; when writing, they are added to the ones `write_warc` fills in
    (overriding them, except Content-Length, which is always the block's length)."""
    record_type: str
    url: str
    payload: bytes
    http_headers: dict[str, str] | None = None
    headers: dict[str, str] = field(default_factory=dict)


def _charset(content_type: str | None) -> str | None:
    """The charset parameter of a Content-Type value: "text/html; charset=UTF-8" -> "UTF-8"."""
    for param in (content_type or "").split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip("\"'") or None
    return None


def _split_http(block: bytes, where: str) -> tuple[dict[str, str], bytes]:
    """HTTP headers (a repeated name keeps its last value) and body of an HTTP message."""
    head, sep, body = block.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = block.partition(b"\n\n")  # some crawlers end lines with a bare LF
    if not sep:
        raise ValueError(f"iter_warc: {where}: HTTP response without the blank line that ends its headers")
    # Latin-1 never fails to decode, and header bytes outside ASCII are rare (RFC 9110 discourages them).
    status, *lines = head.decode("iso-8859-1").splitlines()
    headers = {"Status": status.strip()}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip()] = value.strip()
    return headers, body


def _records(path: Path, types: int) -> Iterator[WarcRecord]:
    with open(path, "rb") as stream:
        records = ArchiveIterator(stream, record_types=types, parse_http=False)
        while True:
            try:
                record = next(records, None)
                if record is None:
                    return
                headers, block = record.headers.to_dict(), record.reader.read()
            except OSError as e:  # FastWARC reports malformed input as an OSError; it is bad input, not I/O
                raise ValueError(f"iter_warc: {path} is not a WARC/WET file or has a corrupt record: {e}") from e
            where = f"{path}, record at byte {record.stream_pos}"
            declared = headers.get("Content-Length")
            if declared is None or not declared.isdigit() or len(block) != int(declared):
                raise ValueError(f"iter_warc: {where}: truncated ({len(block)} bytes, Content-Length {declared})")
            name = headers.get("WARC-Type", "")
            http_headers = None
            if name in ("response", "request") and headers.get("Content-Type", "").startswith("application/http"):
                http_headers, block = _split_http(block, where)
            yield WarcRecord(name, headers.get("WARC-Target-URI", ""), block, http_headers, headers)


def iter_warc(path, record_types: Iterable[str] | None = None) -> Iterator[WarcRecord]:
    """The records of a WARC or WET file (gzipped or not), in file order, optionally only `record_types`
    (e.g. ("response",)); records of other types are skipped inside FastWARC, never read into Python."""
    wanted = tuple(record_types) if record_types is not None else RECORD_TYPES
    if isinstance(record_types, str) or any(t not in RECORD_TYPES for t in wanted):
        raise ValueError(f"iter_warc: record_types={record_types!r}; expected names from {RECORD_TYPES}")
    types = 0
    for name in wanted:
        types |= int(getattr(WarcRecordType, name))
    return _records(Path(path), types)  # a plain function, so bad arguments fail at the call


def _record_bytes(record: WarcRecord, date: str) -> bytes:
    block, content_type = record.payload, _CONTENT_TYPES.get(record.record_type, "application/octet-stream")
    if record.http_headers is not None:
        status = record.http_headers.get("Status", "HTTP/1.1 200 OK")
        fields = "".join(f"{k}: {v}\r\n" for k, v in record.http_headers.items() if k != "Status")
        block = f"{status}\r\n{fields}\r\n".encode("iso-8859-1") + block
        content_type = f"application/http; msgtype={record.record_type}"
    # A deterministic ID (same records, same file) that differs between types, URLs and contents.
    digest = hashlib.sha1(block).hexdigest()
    record_id = uuid.uuid5(uuid.NAMESPACE_URL, f"{record.record_type} {record.url} {digest}")
    headers = {"WARC-Type": record.record_type, "WARC-Date": date, "WARC-Record-ID": f"<urn:uuid:{record_id}>",
               "Content-Type": content_type}
    if record.url:
        headers["WARC-Target-URI"] = record.url
    headers.update(record.headers)
    headers["Content-Length"] = str(len(block))
    head = "WARC/1.0\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    return head.encode("utf-8") + block + b"\r\n\r\n"


def write_warc(path, records: Iterable[WarcRecord], *, compress: bool | None = None, date: str | None = None) -> Path:
    """Write `records` to `path` as WARC/1.0, atomically; returns the path.

    `compress` defaults to whether the name ends in ".gz"; like Common Crawl, each record is its own gzip
    member. `date` (ISO 8601, e.g. "2024-05-01T12:00:00Z") defaults to now, for records without a WARC-Date.
    """
    path = Path(path)
    compress = path.suffix == ".gz" if compress is None else compress
    date = date or datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path, "wb") as out:
        for record in records:
            if not isinstance(record, WarcRecord) or record.record_type not in RECORD_TYPES:
                raise ValueError(f"write_warc: record={record!r:.120}; "
                                 f"expected a WarcRecord with a type in {RECORD_TYPES}")
            data = _record_bytes(record, date)
            out.write(gzip.compress(data, mtime=0) if compress else data)  # mtime=0: same bytes every run
    return path


def warc_to_wet(warc_path, wet_path, *, main_content: bool = False) -> int:
    """Extract the text of every HTML response in `warc_path` into a WET file at `wet_path` (atomically).

    Each page becomes a `conversion` record with the page's URL and date and a WARC-Refers-To naming its
    response, as in Common Crawl's WET files; pages that are not HTML or have no text are skipped.
    Returns the number of pages written.
    """
    written = 0

    def conversions() -> Iterator[WarcRecord]:
        nonlocal written
        for record in iter_warc(warc_path, ("response",)):
            content_type = (record.http_headers or {}).get("Content-Type", "text/html")
            if content_type.split(";")[0].strip().lower() not in _HTML_TYPES:
                continue
            text = extract_text_from_html_bytes(record.payload, http_charset=_charset(content_type),
                                                main_content=main_content)
            if text is None:
                continue
            written += 1
            carried = {"WARC-Date": record.headers.get("WARC-Date"),
                       "WARC-Refers-To": record.headers.get("WARC-Record-ID")}
            yield WarcRecord("conversion", record.url, text.encode("utf-8"),
                             headers={k: v for k, v in carried.items() if v})

    write_warc(wet_path, conversions())
    return written
