#!/usr/bin/env python3
"""Writes the seed corpora fuzz/corpus/<target>/: a handful of small valid
and edge inputs per target, in the layout each *_fuzzer.cc describes.
Run from anywhere: python3 fuzz/make_corpus.py (rewrites the seeds)."""

import base64
import os
import shutil
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def vbi(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n % 128
        n //= 128
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def mqtt_str(s: bytes) -> bytes:
    return struct.pack(">H", len(s)) + s


def packet(first: int, body: bytes) -> bytes:
    return bytes([first]) + vbi(len(body)) + body


def mqtt_seeds():
    connack = packet(0x20, b"\x00\x00" + vbi(3) + b"\x21\x00\x0a")
    publish0 = packet(0x30, mqtt_str(b"t/a") + vbi(0) + b"hi")
    publish1 = packet(0x32, mqtt_str(b"t/b") + b"\x00\x07" +
                      vbi(3) + b"\x23\x00\x01" + b"payload")
    puback = packet(0x40, b"\x00\x07")
    suback = packet(0x90, b"\x00\x01" + vbi(0) + b"\x01")
    disconnect = packet(0xE0, b"\x8e" + vbi(0))
    connect = packet(0x10, mqtt_str(b"MQTT") + b"\x05\x02\x00\x3c" + vbi(0) +
                     mqtt_str(b"client"))
    # byte 0: max size selector, byte 1: chunk size
    return {
        "connack": b"\x00\x03" + connack,
        "stream": b"\x00\x01" + connack + publish0 + publish1 + puback +
                  suback + b"\xd0\x00" + disconnect,
        "connect": b"\x00\x05" + connect,
        "too_large": b"\x01\x00" + publish1,
        "truncated": b"\x00\x02" + publish1[:-3],
        "bad_flags": b"\x00\x00" + b"\x36\x00",
    }


CLAIM_CONF = b"""# claim.conf
[global]
    url = https://app.netdata.cloud/
    token = NETDATA_TOKEN_0123456789
    rooms = room1, room2,,
    proxy = http://bob:s3cret#pw@proxy:3128
    insecure = no
"""

CLOUD_CONF = b"""# Written by cloudlinkd after a successful claim
[global]
    url = https://app.netdata.cloud
    proxy = env
    token = NETDATA_TOKEN_0123456789
    rooms = room1,room2
    insecure = no
    machine_guid = 6f0e4b6e-2f45-4b8e-9a3c-1d2e3f4a5b6c
    claimed_id = 0b4c6b2e-7d3f-4a51-9c8e-2f1e5d6a7b80
    hostname = node1
    future_key = kept out
[future]
    x = y
"""


def ini_seeds():
    return {
        "claim": CLAIM_CONF,
        "bom_crlf": b"\xef\xbb\xbf[global]\r\ntoken = a;b#c\r\n",
        "before_section": b"k = v\n[global]\n[global]\nk = w\n",
        "bad_line": b"[global]\nno equals sign here\n",
        "bad_header": b"[global\ntoken = x\n",
        "empty": b"",
    }


def claim_conf_seeds():
    return {
        "full": CLAIM_CONF,
        "minimal": b"[global]\ntoken = abc\n",
        "empty_proxy": b"[global]\ntoken = abc\nproxy =\nurl =\n",
        "unknown_key": b"[global]\ntokn = abcdef123\n",
        "https_proxy": b"[global]\ntoken = abc\nproxy = https://u:pw123456@p:1\n",
        "duplicate": b"[global]\ntoken = abc\ntoken = def\n",
        "socks": b"[global]\ntoken = abc\nproxy = socks5h://[::1]:1080\ninsecure = yes\n",
    }


def cloud_conf_seeds():
    return {
        "full": CLOUD_CONF,
        "bad_uuid": b"[global]\nclaimed_id = not-a-uuid\ntoken = TOKEN123456\n",
        "bad_bool": b"[global]\ninsecure = maybe\n",
        "rooms_space": b"[global]\nrooms = a, b ,,c\n",
        "empty": b"",
    }


def proxy_seeds():
    return {
        "none": b"none",
        "env": b" ENV ",
        "http": b"http://proxy.example:3128",
        "http_auth": b"http://us%40er:p%3Aw@d@proxy/",
        "socks5": b"socks5://10.0.0.1",
        "socks5h_v6": b"socks5h://u:p@[::1]:1080",
        "https": b"https://proxy:443",
        "bad_port": b"http://proxy:99999",
        "no_scheme": b"proxy:3128",
    }


def env_proxy_seeds():
    # byte 0 flags, 2 bytes port, then https_proxy, no_proxy, target, host
    return {
        "basic": b"\x1b\x01\xbb" + b"http://proxy:3128\nexample.com\n"
                 b"https://app.example.com/api\napp.example.com\n",
        "no_scheme": b"\x03\x20\xfb" + b"proxy:3128\n.example.com:8443\n"
                     b"wss://mqtt.example.com:8443/mqtt\nmqtt.example.com\n",
        "v6": b"\x13\x01\xbb" + b"socks5h://[::1]:1080\n[::1]:443, 10.0.0.1\n"
              b"https://[::1]:443/\n::1\n",
        "star": b"\x07\x00\x50" + b"http://p\n*\nhttp://x\nX\n",
        "bad_target": b"\x01\x00\x00" + b"https://p:1\n\nftp://x\n\n",
    }


def cloud_api_seeds():
    env = (b'{"encoding":"proto","authEndpoint":"https://c.example/api/v1/auth",'
           b'"transports":[{"type":"MQTTv3","endpoint":"wss://o/mqtt"},'
           b'{"type":"MQTTv5","endpoint":"wss://m.example:443/mqtt"}],'
           b'"backoff":{"base":2,"minSeconds":1,"maxSeconds":1024},'
           b'"capabilities":["proto","ctx"]}')
    password = (b'{"clientID":"c","username":"u","password":"p",'
                b'"topics":[{"name":"agent-connection",'
                b'"topic":"/agent/#{claim_id}/outbound/meta"},{"name":"x"}]}')
    error = (b'{"errorCode":"E1","errorMsgKey":"ErrX","errorMessage":"no",'
             b'"errorNonRetryable":false,"errorRetryDelaySeconds":30.5}')
    challenge = b'{"challenge":"' + base64.b64encode(b"\x01" * 128) + b'"}'
    # byte 0 step (0 env, 1 challenge, 2 password), byte 1 status index
    # (0 → 200, 1 → 201, 8 → 429 + Retry-After field, 10 → 503)
    return {
        "env": b"\x00\x00" + env,
        "env_error": b"\x00\x0a" + error,
        "env_429": b"\x00\x08" + b"120\n" + error,
        "env_not_object": b"\x00\x00" + b"[1,2,3]",
        "challenge": b"\x01\x00" + challenge,
        "challenge_banned": b"\x01\x06" + b'{"errorNonRetryable":true}',
        "password": b"\x02\x01" + password,
        "password_no_topic": b"\x02\x01" + b'{"clientID":"c","username":"u","password":"p"}',
    }


def claim_response_seeds():
    return {
        "ok": struct.pack(">H", 204),
        "forbidden": struct.pack(">H", 403) + b'{"errorMsgKey":"ErrForbidden"}',
        "conflict": struct.pack(">H", 409),
        "invalid_room": struct.pack(">H", 422) + b'{"errorMsgKey":"ErrInvalidRoomID"}',
        "invalid_other": struct.pack(">H", 422) + b'{"errorMsgKey":7}',
        "unavailable": struct.pack(">H", 503) + b"<html>",
    }


def socks5_seeds():
    # byte 0: parser (0 method, 1 user/pass, 2 connect) | 4 = offered creds
    return {
        "method_noauth": b"\x00\x05\x00",
        "method_userpass": b"\x04\x05\x02",
        "method_none": b"\x00\x05\xff",
        "userpass_ok": b"\x01\x01\x00extra",
        "userpass_bad": b"\x01\x01\x01",
        "connect_v4": b"\x02\x05\x00\x00\x01\x7f\x00\x00\x01\x01\xbb",
        "connect_domain": b"\x02\x05\x00\x00\x03\x04host\x00\x50tunnel",
        "connect_v6": b"\x02\x05\x00\x00\x04" + b"\x00" * 16 + b"\x01\xbb",
        "connect_refused": b"\x02\x05\x05",
    }


def spool_record(rtype: int, seq: int, topic=b"", payload=b"") -> bytes:
    body = bytes([rtype]) + struct.pack("<Q", seq)
    if rtype == 1:
        body += struct.pack("<H", len(topic)) + topic + payload
    return struct.pack("<II", len(body), crc32c(body)) + body


def spool_seeds():
    data = (spool_record(1, 1, b"node-instance-info", b"{}") +
            spool_record(1, 2, b"t", b"p") + spool_record(2, 1))
    # byte 0 flags (1 fix CRCs, 2 two segments), byte 1 split, bytes 2-3
    # first sequences
    return {
        "intact": b"\x00\x00\x00\x00" + data,
        "torn": b"\x00\x00\x00\x00" + data[:-3],
        "bad_crc": b"\x00\x00\x00\x00" + data[:10] + b"\xff" + data[11:],
        "fix_crc": b"\x01\x00\x00\x00" + data.replace(b"node", b"NODE"),
        "two_segments": b"\x02\x80\x00\x05" + data + spool_record(2, 2),
        "ack_only": b"\x00\x00\x09\x00" + spool_record(2, 7),
        "big_seq": b"\x00\x00\x00\x00" + spool_record(1, 2**64 - 1, b"t", b"p"),
    }


def wss_url_seeds():
    return {
        "plain": b"wss://mqtt.example.com/mqtt",
        "port": b"WSS://mqtt.example.com:8443/mqtt?x=1",
        "v6": b"wss://[::1]:443",
        "userinfo": b"wss://u:p@host/mqtt",
        "bad_port": b"wss://host:0/",
        "other_scheme": b"https://host/",
    }


def lws_error_seeds():
    return {
        "proxy_not_h1": b"\x01proxy not h1",
        "refused": b"\x00connect failed",
        "tls": b"\x00tls: certificate verify failed",
        "upgrade": b"\x00HS: ws upgrade response not 101",
        "empty": b"\x00",
    }


def pb_varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def pb_field(number: int, value) -> bytes:
    if isinstance(value, int):
        return pb_varint(number << 3) + pb_varint(value)
    return pb_varint((number << 3) | 2) + pb_varint(len(value)) + value


def frame(body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + body


def publish_socket_seeds():
    hello = frame(pb_field(1, 1))
    single = frame(pb_field(1, 7) + pb_field(2, b"t") + pb_field(3, b"body"))
    unknown = frame(pb_field(1, 8) + pb_field(2, b"nope") + pb_field(3, b"x"))
    message = pb_field(1, 9) + pb_field(2, b"t") + pb_field(3, b"p") + \
        pb_field(4, 1)
    batch = frame(pb_field(6, message) + pb_field(6, message.replace(
        pb_field(1, 9), pb_field(1, 10))))
    timeout = frame(pb_field(1, 1) + pb_field(2, pb_field(1, 30)))
    return {
        "single": b"\x00" + hello + single,
        "chunks_of_3": b"\x02" + hello + single + unknown + batch,
        "timeout_hello": b"\x10" + timeout + batch,
        "no_hello": b"\x00" + single,
        "wrong_version": b"\x00" + frame(pb_field(1, 2)) + single,
        "too_large": b"\x00" + hello + b"\x7f\xff\xff\xff",
        "cut": b"\x00" + hello + single[:-2],
        "http": b"\x07GET / HTTP/1.1\r\n\r\n",
        "garbage_frame": b"\x00" + hello + frame(b"\xff\xff\xff"),
    }


TARGETS = {
    "mqtt_decoder": mqtt_seeds,
    "ini_file": ini_seeds,
    "claim_conf": claim_conf_seeds,
    "cloud_conf": cloud_conf_seeds,
    "proxy": proxy_seeds,
    "env_proxy": env_proxy_seeds,
    "cloud_api": cloud_api_seeds,
    "claim_response": claim_response_seeds,
    "socks5_reply": socks5_seeds,
    "spool_segment": spool_seeds,
    "wss_url": wss_url_seeds,
    "lws_connection_error": lws_error_seeds,
    "publish_socket": publish_socket_seeds,
}


def main():
    for target, make in TARGETS.items():
        out = os.path.join(HERE, "corpus", target)
        shutil.rmtree(out, ignore_errors=True)
        os.makedirs(out)
        for name, data in make().items():
            with open(os.path.join(out, name), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()
