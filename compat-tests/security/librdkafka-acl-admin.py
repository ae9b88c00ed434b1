"""librdkafka's ACL admin calls against the broker, through ctypes.

confluent-kafka's AdminClient.create_acls / describe_acls / delete_acls (Python 1.9 and later)
are thin wrappers over librdkafka's rd_kafka_CreateAcls / rd_kafka_DescribeAcls /
rd_kafka_DeleteAcls. Debian ships python3-confluent-kafka 1.7, which predates those wrappers,
on librdkafka 2.0.2, which has the calls. So this calls the same librdkafka functions the
AdminClient would, in the library Debian's confluent-kafka loads.

usage: librdkafka-acl-admin.py BOOTSTRAP USER PASSWORD TOPIC
Prints one JSON object: what each call answered.
"""

import ctypes
import json
import sys

lib = ctypes.CDLL("librdkafka.so.1")
P = ctypes.c_void_p
I = ctypes.c_int
S = ctypes.c_char_p
SZ = ctypes.c_size_t


def fn(name, res, *args):
    f = getattr(lib, name)
    f.restype = res
    f.argtypes = list(args)
    return f


rd_kafka_version_str = fn("rd_kafka_version_str", S)
conf_new = fn("rd_kafka_conf_new", P)
conf_set = fn("rd_kafka_conf_set", I, P, S, S, S, SZ)
kafka_new = fn("rd_kafka_new", P, I, P, S, SZ)
kafka_destroy = fn("rd_kafka_destroy", None, P)
queue_new = fn("rd_kafka_queue_new", P, P)
queue_destroy = fn("rd_kafka_queue_destroy", None, P)
queue_poll = fn("rd_kafka_queue_poll", P, P, I)
event_error = fn("rd_kafka_event_error", I, P)
event_error_string = fn("rd_kafka_event_error_string", S, P)
event_destroy = fn("rd_kafka_event_destroy", None, P)
err2name = fn("rd_kafka_err2name", S, I)
options_new = fn("rd_kafka_AdminOptions_new", P, P, I)
options_destroy = fn("rd_kafka_AdminOptions_destroy", None, P)
options_set_request_timeout = fn("rd_kafka_AdminOptions_set_request_timeout", I, P, I, S, SZ)
binding_new = fn("rd_kafka_AclBinding_new", P, I, S, I, S, S, I, I, S, SZ)
filter_new = fn("rd_kafka_AclBindingFilter_new", P, I, S, I, S, S, I, I, S, SZ)
binding_destroy = fn("rd_kafka_AclBinding_destroy", None, P)
create_acls = fn("rd_kafka_CreateAcls", None, P, ctypes.POINTER(P), SZ, P, P)
describe_acls = fn("rd_kafka_DescribeAcls", None, P, P, P, P)
delete_acls = fn("rd_kafka_DeleteAcls", None, P, ctypes.POINTER(P), SZ, P, P)
create_result = fn("rd_kafka_event_CreateAcls_result", P, P)
describe_result = fn("rd_kafka_event_DescribeAcls_result", P, P)
delete_result = fn("rd_kafka_event_DeleteAcls_result", P, P)
create_result_acls = fn("rd_kafka_CreateAcls_result_acls", ctypes.POINTER(P), P, ctypes.POINTER(SZ))
acl_result_error = fn("rd_kafka_acl_result_error", P, P)
describe_result_acls = fn("rd_kafka_DescribeAcls_result_acls", ctypes.POINTER(P), P, ctypes.POINTER(SZ))
delete_result_responses = fn("rd_kafka_DeleteAcls_result_responses", ctypes.POINTER(P), P, ctypes.POINTER(SZ))
delete_response_error = fn("rd_kafka_DeleteAcls_result_response_error", P, P)
delete_response_matching = fn("rd_kafka_DeleteAcls_result_response_matching_acls", ctypes.POINTER(P), P, ctypes.POINTER(SZ))
error_code = fn("rd_kafka_error_code", I, P)
error_name = fn("rd_kafka_error_name", S, P)
b_restype = fn("rd_kafka_AclBinding_restype", I, P)
b_name = fn("rd_kafka_AclBinding_name", S, P)
b_pattern = fn("rd_kafka_AclBinding_resource_pattern_type", I, P)
b_principal = fn("rd_kafka_AclBinding_principal", S, P)
b_host = fn("rd_kafka_AclBinding_host", S, P)
b_operation = fn("rd_kafka_AclBinding_operation", I, P)
b_permission = fn("rd_kafka_AclBinding_permission_type", I, P)

# librdkafka's enums carry Kafka's codes
TOPIC = 2
ANY = 1
MATCH = 2
LITERAL = 3
PREFIXED = 4
WRITE = 4
DENY = 2
ALLOW = 3
RD_KAFKA_PRODUCER = 0
RD_KAFKA_ADMIN_OP_ANY = 0


def enc(s):
    return None if s is None else s.encode()


def dec(b):
    return None if b is None else b.decode()


def errstr():
    return ctypes.create_string_buffer(512)


bootstrap, user, password, topic = sys.argv[1:5]
conf = conf_new()
for k, v in [("bootstrap.servers", bootstrap), ("security.protocol", "SASL_PLAINTEXT"), ("sasl.mechanisms", "PLAIN"), ("sasl.username", user), ("sasl.password", password)]:
    e = errstr()
    if conf_set(conf, enc(k), enc(v), e, 512) != 0:
        sys.exit(f"conf {k}: {dec(e.value)}")
e = errstr()
rk = kafka_new(RD_KAFKA_PRODUCER, conf, e, 512)
if not rk:
    sys.exit(f"rd_kafka_new: {dec(e.value)}")
queue = queue_new(rk)


def options():
    o = options_new(rk, RD_KAFKA_ADMIN_OP_ANY)
    options_set_request_timeout(o, 10000, None, 0)
    return o


def wait(result_of):
    """The next admin result event on the queue: (event, result); a request-level error exits."""
    while True:
        ev = queue_poll(queue, 15000)
        if not ev:
            sys.exit("no admin result within 15 s")
        if event_error(ev) != 0:
            sys.exit(f"admin request failed: {dec(err2name(event_error(ev)))}: {dec(event_error_string(ev))}")
        res = result_of(ev)
        if res:
            return ev, res
        event_destroy(ev)


def binding_dict(b):
    return {"restype": b_restype(b), "name": dec(b_name(b)), "pattern": b_pattern(b), "principal": dec(b_principal(b)), "host": dec(b_host(b)), "operation": b_operation(b), "permission": b_permission(b)}


def new_binding(make, restype, name, pattern, principal, host, operation, permission):
    e = errstr()
    b = make(restype, enc(name), pattern, enc(principal), enc(host), operation, permission, e, 512)
    if not b:
        sys.exit(f"binding: {dec(e.value)}")
    return b


def items(getter, res):
    """A result's array, as a list (librdkafka hands back a pointer and a count)."""
    n = SZ()
    arr = getter(res, ctypes.byref(n))
    return [arr[i] for i in range(n.value)]


def error_of(err):
    return 0 if not err else error_code(err)


def admin_call(start, result_of, read):
    """Starts one admin request with fresh options, waits for its result and reads it."""
    o = options()
    start(o)
    ev, res = wait(result_of)
    value = read(res)
    event_destroy(ev)
    options_destroy(o)
    return value


def describe(name):
    f = new_binding(filter_new, TOPIC, name, MATCH, None, None, ANY, ANY)
    found = admin_call(lambda o: describe_acls(rk, f, o, queue), describe_result, lambda res: [binding_dict(b) for b in items(describe_result_acls, res)])
    binding_destroy(f)
    return sorted(found, key=lambda d: (d["name"], d["principal"]))


out = {"librdkafka": dec(rd_kafka_version_str())}

# CreateAcls: an ALLOW for alice on the topic, a PREFIXED DENY for bob on "<topic>-"
created = [new_binding(binding_new, TOPIC, topic, LITERAL, "User:alice", "*", WRITE, ALLOW), new_binding(binding_new, TOPIC, f"{topic}-", PREFIXED, "User:bob", "*", WRITE, DENY)]
out["create"] = admin_call(
    lambda o: create_acls(rk, (P * len(created))(*created), len(created), o, queue),
    create_result,
    lambda res: [error_of(acl_result_error(r)) for r in items(create_result_acls, res)],
)

# DescribeAcls with MATCH: what applies to "<topic>-x" (the prefix), and to the topic itself
out["describe_prefixed"] = describe(f"{topic}-x")
out["describe_literal"] = describe(topic)

# DeleteAcls: everything of alice's
f = new_binding(filter_new, ANY, None, ANY, "User:alice", None, ANY, ANY)
out["delete"] = admin_call(
    lambda o: delete_acls(rk, (P * 1)(f), 1, o, queue),
    delete_result,
    lambda res: [{"error": error_of(delete_response_error(r)), "matching": [binding_dict(b) for b in items(delete_response_matching, r)]} for r in items(delete_result_responses, res)],
)
out["describe_literal_after_delete"] = describe(topic)

for b in created:
    binding_destroy(b)
binding_destroy(f)
queue_destroy(queue)
kafka_destroy(rk)
print(json.dumps(out))
