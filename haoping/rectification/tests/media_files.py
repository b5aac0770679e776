"""Small evidence files of each kind, built in the test from the formats' own headers.

The WAV (Python's wave module), the MP3 (an ID3 tag and one silent MPEG-1 Layer III frame) and the
AMR (its magic line and no-data frames) are complete, valid files. The M4A, MP4, AAC and WebM are
only their headers (an ISO BMFF `ftyp` box, an ADTS frame header, an EBML header naming the webm
doc type): enough for a content check, which reads the header, but not for a player; making real
ones takes an encoder the test environment does not have."""

from __future__ import annotations

import io
import math
import struct
import wave


def wav(seconds: float = 0.5, rate: int = 8000) -> bytes:
    """A 440 Hz tone, 16-bit mono: what a call recording exported from a PBX looks like."""
    samples = (int(8000 * math.sin(2 * math.pi * 440 * n / rate)) for n in range(int(seconds * rate)))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"".join(struct.pack("<h", s) for s in samples))
    return buffer.getvalue()


def mp3() -> bytes:
    # ID3v2.3 tag without frames, then a 128 kbit/s 44.1 kHz frame (417 bytes) of silence.
    return b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + b"\x00" * 413


def amr() -> bytes:
    # AMR-NB storage format: the magic line, then 50 NO_DATA frames (one second).
    return b"#!AMR\n" + b"\x7c" * 50


def _ftyp(major: bytes, *compatible: bytes) -> bytes:
    body = major + b"\x00\x00\x02\x00" + b"".join(compatible)
    return struct.pack(">I", 8 + len(body)) + b"ftyp" + body


def m4a() -> bytes:
    return _ftyp(b"M4A ", b"M4A ", b"mp42", b"isom") + struct.pack(">I", 8) + b"free"


def mp4() -> bytes:
    return _ftyp(b"isom", b"isom", b"iso2", b"avc1", b"mp41") + struct.pack(">I", 8) + b"free"


def aac() -> bytes:
    # An ADTS header (AAC LC, 44.1 kHz, mono) for a frame of 16 bytes, and its payload.
    return b"\xff\xf1\x50\x40\x02\x1f\xfc" + b"\x00" * 9


def webm() -> bytes:
    def element(tag: bytes, data: bytes) -> bytes:
        return tag + bytes([0x80 | len(data)]) + data

    header = b"".join(
        [
            element(b"\x42\x86", b"\x01"),  # EBMLVersion
            element(b"\x42\xf7", b"\x01"),  # EBMLReadVersion
            element(b"\x42\xf2", b"\x04"),  # EBMLMaxIDLength
            element(b"\x42\xf3", b"\x08"),  # EBMLMaxSizeLength
            element(b"\x42\x82", b"webm"),  # DocType
            element(b"\x42\x87", b"\x02"),  # DocTypeVersion
            element(b"\x42\x85", b"\x02"),  # DocTypeReadVersion
        ]
    )
    return element(b"\x1a\x45\xdf\xa3", header)
