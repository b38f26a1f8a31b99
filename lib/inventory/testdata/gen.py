#!/usr/bin/env python3
"""Regenerates the inventory fixtures from the CSV sources in this directory.

The layout mirrors what `aws s3 sync s3://DEST/inv/ ./` gives for an S3
Inventory report (see "Locating your inventory list" in the S3 User Guide):
  src-bucket/cfg/2024-01-02T00-00Z/manifest.json
  src-bucket/cfg/data/<name>.csv.gz
CSV rows are as S3 writes them: every field quoted, keys URL-encoded.
"""
import gzip, hashlib, json, os

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMA = ("Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size, LastModifiedDate, ETag, "
          "StorageClass, IsMultipartUploaded, ReplicationStatus, EncryptionStatus, "
          "ObjectLockRetainUntilDate, ObjectLockMode, ObjectLockLegalHoldStatus, "
          "IntelligentTieringAccessTier, BucketKeyStatus, ChecksumAlgorithm")

def gz(data):
    # mtime=0 keeps the fixture bytes stable.
    return gzip.compress(data, mtime=0)

def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)

def report(name, sources, corrupt=None, replaced=None):
    root = os.path.join(HERE, name, "src-bucket", "cfg")
    files = []
    for i, src in enumerate(sources):
        raw = open(os.path.join(HERE, src), "rb").read()
        data = gz(raw)
        key = "inv/src-bucket/cfg/data/part-%d.csv.gz" % i
        md5 = hashlib.md5(data).hexdigest()
        size = len(data)
        if corrupt == i:
            # flip one byte inside the deflate stream after computing the MD5
            b = bytearray(data); b[len(b)//2] ^= 0x55; data = bytes(b)
        if replaced == i:
            # a valid gzip file, but not the one the manifest describes
            data = gzip.compress(raw, mtime=1)
        write(os.path.join(root, "data", "part-%d.csv.gz" % i), data)
        files.append({"key": key, "size": size, "MD5checksum": md5})
    manifest = {
        "sourceBucket": "src-bucket",
        "destinationBucket": "arn:aws:s3:::inv-bucket",
        "version": "2016-11-30",
        "creationTimestamp": "1704153600000",
        "fileFormat": "CSV",
        "fileSchema": SCHEMA,
        "files": files,
    }
    write(os.path.join(root, "2024-01-02T00-00Z", "manifest.json"),
          json.dumps(manifest, indent=4).encode())

report("good", ["rows-0.csv", "rows-1.csv"])
report("corrupt", ["rows-0.csv", "rows-1.csv"], corrupt=1)
report("replaced", ["rows-0.csv", "rows-1.csv"], replaced=1)
