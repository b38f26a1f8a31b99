#!/usr/bin/env python3
"""Regenerates the event fixtures. Shapes follow the S3 User Guide ("Event
message structure", "EventBridge event message structure"), the SNS message
format, and what `aws sqs receive-message` prints."""
import json

def s3rec(name, key, size=None, etag=None, vid=None, seq="0055AED6DCD90281E5", t="2024-01-02T03:04:05.678Z", bucket="src-bucket"):
    obj = {"key": key, "sequencer": seq}
    if size is not None: obj["size"] = size
    if etag is not None: obj["eTag"] = etag
    if vid is not None: obj["versionId"] = vid
    return {"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-west-2", "eventTime": t,
            "eventName": name, "userIdentity": {"principalId": "AIDAJDPLRKLG7UEXAMPLE"},
            "requestParameters": {"sourceIPAddress": "127.0.0.1"},
            "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"},
            "s3": {"s3SchemaVersion": "1.0", "configurationId": "testConfigRule",
                   "bucket": {"name": bucket, "ownerIdentity": {"principalId": "A3NL1KOZZKExample"}, "arn": "arn:aws:s3:::" + bucket},
                   "object": obj}}

def s3ev(*recs): return {"Records": list(recs)}

def sns(msg):
    return {"Type": "Notification", "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
            "TopicArn": "arn:aws:sns:us-west-2:123456789012:s3-events", "Subject": "Amazon S3 Notification",
            "Message": json.dumps(msg), "Timestamp": "2024-01-02T03:04:06.000Z", "SignatureVersion": "1",
            "Signature": "EXAMPLE", "SigningCertURL": "https://sns.us-west-2.amazonaws.com/x.pem",
            "UnsubscribeURL": "https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe"}

def bridge(dtype, key, size=None, etag=None, vid=None, seq="617f08299329d189", deletion=None, bucket="src-bucket"):
    obj = {"key": key}
    if size is not None: obj["size"] = size
    if etag is not None: obj["etag"] = etag
    if vid is not None: obj["version-id"] = vid
    if seq is not None: obj["sequencer"] = seq
    detail = {"version": "0", "bucket": {"name": bucket}, "object": obj, "request-id": "N4N7GDK58NMKJ12R",
              "requester": "123456789012", "source-ip-address": "1.2.3.4", "reason": "PutObject"}
    if deletion: detail["deletion-type"] = deletion; detail["reason"] = "DeleteObject"
    return {"version": "0", "id": "17793124-05d4-b198-2fde-7ededc63b103", "detail-type": dtype, "source": "aws.s3",
            "account": "111122223333", "time": "2021-11-12T00:00:00Z", "region": "ca-central-1",
            "resources": ["arn:aws:s3:::" + bucket], "detail": detail}

test_event = {"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": "2014-10-13T15:57:02.089Z",
              "Bucket": "src-bucket", "RequestId": "5582815E1AEA5ADF", "HostId": "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE"}

def dump(name, obj, indent=2):
    open(name, "w").write(json.dumps(obj, indent=indent, ensure_ascii=False) + "\n")

# 1. A raw S3 event, pretty-printed: key "red flower+1.jpg" in a folder "日本".
dump("s3-put.json", s3ev(s3rec("ObjectCreated:Put", "%E6%97%A5%E6%9C%AC/red+flower%2B1.jpg", 1024,
                               "d41d8cd98f00b204e9800998ecf8427e", "096fKKXTRTtl3on89fVO.nfljtsv6qko")))

# 2. One document per line: create, copy, delete marker, test event, a restore (ignored).
lines = [
    s3ev(s3rec("ObjectCreated:CompleteMultipartUpload", "big/part+file", 16777216, "a1b2c3d4e5f60718293a4b5c6d7e8f90-2", seq="0A")),
    test_event,
    s3ev(s3rec("ObjectCreated:Copy", "tab%09and%0Anewline", 3, "33333333333333333333333333333333", seq="0B")),
    s3ev(s3rec("ObjectRemoved:DeleteMarkerCreated", "gone.txt", vid="dm-version-1", seq="0C")),
    s3ev(s3rec("ObjectRestore:Completed", "cold.bin", 5, "55555555555555555555555555555555", seq="0D")),
]
open("s3-lines.jsonl", "w").write("".join(json.dumps(l) + "\n" for l in lines))

# 3. SNS-wrapped S3 event.
dump("sns.json", sns(s3ev(s3rec("ObjectCreated:Post", "sns/a%20b+c", 7, "77777777777777777777777777777777"))))

# 4. aws sqs receive-message output: bodies are an S3 event, an SNS envelope and an EventBridge event.
dump("sqs-receive.json", {"Messages": [
    {"MessageId": "m1", "ReceiptHandle": "r1", "MD5OfBody": "x",
     "Body": json.dumps(s3ev(s3rec("ObjectCreated:Put", "sqs/raw+key", 1, "11111111111111111111111111111111", seq="01")))},
    {"MessageId": "m2", "ReceiptHandle": "r2", "MD5OfBody": "x",
     "Body": json.dumps(sns(s3ev(s3rec("ObjectCreated:Put", "sqs/via+sns", 2, "22222222222222222222222222222222", seq="02"))))},
    {"MessageId": "m3", "ReceiptHandle": "r3", "MD5OfBody": "x",
     "Body": json.dumps(bridge("Object Created", "sqs/via+eventbridge", 3, "33333333333333333333333333333333"))},
]}, indent=4)

# 5. EventBridge events as a JSON array.
dump("eventbridge.json", [
    bridge("Object Created", "eb/example+key%C3%A9", 5, "b1946ac92492d2347c6235b4d2611184", "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e"),
    bridge("Object Deleted", "eb/old", None, "d41d8cd98f00b204e9800998ecf8427e", "1QW9g1Z99LUNbvaaYVpW9xDlOLU.qxgF", "617f0837b476e463", "Delete Marker Created"),
    bridge("Object Restore Completed", "eb/cold", 5, "b1946ac92492d2347c6235b4d2611184"),
])

# 6. An SQS event as Lambda receives it.
dump("lambda-sqs.json", {"Records": [
    {"messageId": "059f36b4-87a3-44ab-83d2-661975830a7d", "receiptHandle": "AQEB", "eventSource": "aws:sqs",
     "body": json.dumps(s3ev(s3rec("ObjectCreated:Put", "lambda/k%2Bplus", 4, "44444444444444444444444444444444")))},
]})
