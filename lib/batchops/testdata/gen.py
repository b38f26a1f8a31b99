#!/usr/bin/env python3
"""Regenerates the completion-report fixtures (S3 User Guide, "S3 Batch
Operations completion reports"): a manifest.json listing one succeeded and
one failed result file with their MD5s, plus a copy whose MD5 is wrong."""
import hashlib, json, os
HERE = os.path.dirname(os.path.abspath(__file__))
def md5(p): return hashlib.md5(open(os.path.join(HERE, p), "rb").read()).hexdigest()
def manifest(name, failed_md5):
    m = {"Format": "Report_CSV_20180820", "ReportCreationDate": "2019-04-05T17:48:39.725Z",
         "Results": [
             {"TaskExecutionStatus": "succeeded", "Bucket": "my-job-reports", "MD5Checksum": md5("report/succeeded.csv"),
              "Key": "job-f8fb9d89/results/succeeded.csv"},
             {"TaskExecutionStatus": "failed", "Bucket": "my-job-reports", "MD5Checksum": failed_md5,
              "Key": "job-f8fb9d89/results/failed.csv"}],
         "ReportSchema": "Bucket, Key, VersionId, TaskStatus, ErrorCode, HTTPStatusCode, ResultMessage"}
    open(os.path.join(HERE, "report", name), "w").write(json.dumps(m, indent=4) + "\n")
manifest("manifest.json", md5("report/failed.csv"))
manifest("manifest-bad-md5.json", "0" * 32)
