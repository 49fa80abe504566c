"""Bounded bodies (size after decompression, deadline), abandonable calls and answer
checks, without a server."""
from __future__ import annotations

import gzip
import io
import threading
import time
import zlib

import pytest
import requests
from urllib3.response import HTTPResponse

from models.errors import CancelledError, DataSourceError, NetworkError
from services.cave.cave_http import HttpLimits, ResponseTooLarge, read_body, run_abandonable
from services.cave.cave_records import check_datastack_names, check_version_records
from services.source import CancelToken


class _Slow(io.RawIOBase):
    """A body that gives one byte per read, after a pause."""

    def __init__(self, data: bytes, pause: float):
        self.data, self.pause = data, pause

    def readable(self):
        return True

    def readinto(self, b):
        if not self.data:
            return 0
        time.sleep(self.pause)
        b[0] = self.data[0]
        self.data = self.data[1:]
        return 1


def _response(body, encoding=None, slow=None) -> requests.Response:
    raw = _Slow(body, slow) if slow else io.BytesIO(body)
    headers = {"Content-Encoding": encoding} if encoding else {}
    r = requests.Response()
    r.raw = HTTPResponse(body=io.BufferedReader(raw) if slow else raw, headers=headers,
                         preload_content=False, decode_content=True)
    r.headers.update(headers)
    r.status_code = 200
    return r


@pytest.mark.parametrize("encoding,pack", [
    (None, lambda b: b), ("gzip", gzip.compress), ("deflate", zlib.compress),
    ("gzip", lambda b: gzip.compress(b[:1000]) + gzip.compress(b[1000:]))])
def test_bodies_are_read_whole(encoding, pack):
    body = bytes(range(256)) * 40
    r = _response(pack(body), encoding)
    read_body(r, HttpLimits())
    assert r.content == body


def test_a_many_member_gzip_bomb_stops_at_the_limit():
    member = gzip.compress(b"\0" * (1 << 20))
    r = _response(member * 512, "gzip")  # 512 MiB inflated, ~0.5 MiB here
    with pytest.raises(ResponseTooLarge, match="larger than 8 MiB") as err:
        read_body(r, HttpLimits(max_response_bytes=8 << 20))
    assert isinstance(err.value, DataSourceError) and "Narrow the query" in err.value.hint


def test_a_trickle_hits_the_deadline():
    r = _response(b"x" * 100, slow=0.05)
    t0 = time.monotonic()
    with pytest.raises(NetworkError, match="came too slowly"):
        read_body(r, HttpLimits(body_deadline_s=0.3))
    assert time.monotonic() - t0 < 1.0


def test_a_cancelled_call_returns_at_once_and_finishes_alone():
    token, finished = CancelToken(), threading.Event()

    def job():
        time.sleep(0.5)
        finished.set()
        return 1
    threading.Timer(0.05, token.cancel).start()
    t0 = time.monotonic()
    with pytest.raises(CancelledError):
        run_abandonable(job, token)
    assert time.monotonic() - t0 < 0.2 and not finished.is_set()
    assert finished.wait(2)
    assert run_abandonable(lambda: 7, CancelToken()) == 7
    with pytest.raises(KeyError):
        run_abandonable(lambda: {}["x"], CancelToken())


@pytest.mark.parametrize("names", [[1, 2, 3], {}, "x", None, [""], [["a"]]])
def test_datastack_lists_of_the_wrong_type(names):
    with pytest.raises(DataSourceError, match="list of datastacks"):
        check_datastack_names(names, "https://x")


@pytest.mark.parametrize("recs", [{}, [1], [{"version": "3"}], [{"version": True}], [{}]])
def test_version_records_of_the_wrong_type(recs):
    with pytest.raises(DataSourceError, match="versions of 'd'"):
        check_version_records(recs, "d", "https://x")
