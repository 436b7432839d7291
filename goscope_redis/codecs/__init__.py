"""Serializers (a small protocol) and the value codec that wraps one."""

from goscope_redis.codecs.base import Serializer
from goscope_redis.codecs.codec import Codec
from goscope_redis.codecs.json import JSONSerializer
from goscope_redis.codecs.msgpack import MsgpackSerializer
from goscope_redis.codecs.pickle import SignedPickleSerializer

__all__ = ["Codec", "JSONSerializer", "MsgpackSerializer", "Serializer", "SignedPickleSerializer"]
