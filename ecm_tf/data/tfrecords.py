"""TFRecord files of prep (schema: tfrecords/README.md), written in pure Python.

`--mode=prep` must not wait for TensorFlow to import (seconds), so this module serialises the
`tf.train.Example` protocol buffer and the TFRecord framing (length, masked CRC-32C) itself;
tests check that TensorFlow parses the result. Reading is in ecm_tf.data.pipeline.

Shards are named `{split}-{i:05d}-of-{n:05d}.tfrecord`; each is written under a temporary name
and renamed when complete; shards of an earlier run with another shard count are removed.
"""

import functools
import glob
import os
import struct

import numpy as np

from ecm_tf import io_utils
from ecm_tf.errors import InputError

SPLITS = ("train", "dev", "test")
INT_FEATURES = ("post", "response", "emotion", "post_emotion", "emotion_word")
TEXT_FEATURES = ("post_text", "response_text")


def _crc_table():
    table = np.zeros(256, np.uint32)
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table[n] = c
    return table


_CRC_TABLE = _crc_table()


def crc32c(records):
    """CRC-32C (Castagnoli) of each bytes object, as uint32 [N]; vectorised over the records.

    With the standard initial value 0xFFFFFFFF, the CRC equals that of the message whose first four
    bytes are inverted, computed from 0; leading zero bytes leave a zero state unchanged, so the
    records are left-padded to one length and processed one byte column at a time. Every record
    must hold at least 4 bytes (TFRecord lengths are 8 bytes, Examples longer).
    """
    if any(len(r) < 4 for r in records):
        raise ValueError("crc32c: records shorter than 4 bytes are not supported")
    width = max((len(r) for r in records), default=4)
    buf = np.zeros([len(records), width], np.uint8)  # [N, L]
    for i, r in enumerate(records):
        buf[i, width - len(r):] = np.frombuffer(r, np.uint8)
        buf[i, width - len(r):width - len(r) + 4] ^= 0xFF
    crc = np.zeros(len(records), np.uint32)  # [N]
    for col in buf.T:
        crc = _CRC_TABLE[(crc ^ col) & 0xFF] ^ (crc >> 8)
    return crc ^ np.uint32(0xFFFFFFFF)


def masked_crc(records):
    """TFRecord's masked CRC-32C of each record, uint32 [N]."""
    crc = crc32c(records)
    return ((crc >> 15) | (crc << 17)) + np.uint32(0xA282EAD8)


@functools.lru_cache(maxsize=1 << 17)
def _varint(n):
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _field(number, payload):
    """A length-delimited protobuf field."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _feature(name, payload):
    """One `features.feature` map entry: key (1) = name, value (2) = Feature."""
    return _field(1, _field(1, name.encode("utf-8")) + _field(2, payload))


def encode(example):
    """Serialises one example dict as a tf.train.Example.

    Args:
      example: dict with post (list[int]), response (list[int], ends with EOS), emotion (int),
        post_emotion (int, -1 unknown), emotion_word (list[int], len(response)), post_text (str),
        response_text (str).
    """
    entries = []
    for name in INT_FEATURES:
        values = example[name]
        values = values if isinstance(values, (list, tuple)) else [values]
        packed = b"".join(_varint(int(v)) for v in values)
        entries.append(_feature(name, _field(3, _field(1, packed) if values else b"")))  # int64_list
    for name in TEXT_FEATURES:
        entries.append(_feature(name, _field(1, _field(1, example[name].encode("utf-8")))))  # bytes_list
    return _field(1, b"".join(entries))  # Example.features


def frame(records, chunk=4096):
    """TFRecord framing of each record: uint64 length, masked CRC of the length, data, masked CRC
    of the data. Returns the bytes of the whole file."""
    out = []
    for start in range(0, len(records), chunk):
        part = records[start:start + chunk]
        lengths = [struct.pack("<Q", len(r)) for r in part]
        for length, length_crc, record, record_crc in zip(lengths, masked_crc(lengths), part, masked_crc(part)):
            out.append(length + struct.pack("<I", length_crc) + record + struct.pack("<I", record_crc))
    return b"".join(out)


def shard_name(split, index, count):
    return f"{split}-{index:05d}-of-{count:05d}.tfrecord"


def split_files(data_dir, split):
    """The shard files of one split, sorted. When the folder's prep_stats.json lists the shards prep
    wrote (it does since it is written last, as the folder's manifest), the files found must be
    exactly those: a shard it does not list was encoded with another vocabulary (an earlier prep's),
    so InputError naming --data_dir."""
    found = sorted(glob.glob(os.path.join(glob.escape(data_dir), f"{split}-*-of-*.tfrecord")))
    stats_path = os.path.join(data_dir, "prep_stats.json")
    if os.path.isfile(stats_path):
        splits = io_utils.read_json(stats_path).get("splits")
        if isinstance(splits, dict):
            listed = set((splits.get(split) or {}).get("files") or [])
            names = {os.path.basename(f) for f in found}
            if names != listed:
                odd = sorted(names - listed) or sorted(listed - names)
                what = "not written by the prep of its vocabulary" if names - listed else "missing"
                raise InputError(f"--data_dir={data_dir}: {', '.join(odd)} {what} (prep_stats.json lists "
                                 f"the {split} shards of that prep); run --mode=prep into a new folder")
    return found


def write_split(data_dir, split, serialized, num_shards):
    """Writes serialized examples round-robin into at most `num_shards` shards (at least one).

    Returns the list of written file paths.
    """
    count = max(1, min(num_shards, len(serialized)))
    paths = [os.path.join(data_dir, shard_name(split, i, count)) for i in range(count)]
    for i, path in enumerate(paths):
        with io_utils.atomic_open(path, "wb") as f:
            f.write(frame(serialized[i::count]))
    for old in split_files(data_dir, split):
        if old not in paths:
            os.remove(old)
    return paths
