"""The Lua scripts of the Redis backend (:mod:`router.state.redis`): one round trip per
decision (the limit, "set the hold if later", "increment, starting a new window if the old one
ended"), and the layout of the values that carry their own end time. The GCRA script is the
arithmetic of :mod:`router.state.gcra`, line for line."""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Generic, TypeVar

from redis.commands.core import AsyncScript, Script

from router.state import gcra

#: Expiry slack, milliseconds, on keys whose value carries its own end time.
SLACK_MS: Final = 1000
EXPIRES_STRUCT: Final = struct.Struct(">d")

# Reads the caller's time from an argument, or the server's TIME when the argument is empty.
_NOW_LUA = """
local function now_from(arg)
  local now = tonumber(arg)
  if now == nil then
    local t = redis.call('TIME')
    now = tonumber(t[1]) + tonumber(t[2]) / 1000000
  end
  return now
end
"""

# KEYS[1] = P rl:<key>; ARGV = cost, interval, burst, now ('' = server TIME).
# Returns the wait as a string ('0' when admitted): a Lua number would come back truncated.
_GCRA_LUA = (
    (
        _NOW_LUA
        + """
local cost, interval, burst = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local now = now_from(ARGV[4])
local tat = tonumber(redis.call('GET', KEYS[1]))
if tat == nil or tat < now then tat = now end
local wait = tat + (math.min(cost, burst) - burst) * interval - now
if wait > EPSILON then return string.format('%.17g', wait) end
local new_tat = tat + cost * interval
if new_tat > now then
  redis.call('SET', KEYS[1], string.format('%.17g', new_tat),
             'PX', math.ceil((new_tat - now) * 1000) + SLACK_MS)
end
return '0'
"""
    )
    .replace("EPSILON", repr(gcra.EPSILON))
    .replace("SLACK_MS", str(SLACK_MS))
)

# KEYS = P rl:<key> for each limit; ARGV = now ('' = server TIME), then cost, interval, burst
# per key. All are admitted (and charged) or none: returns the longest wait; when admitted, '0'
# and then how far ahead each key is now booked (seconds, space-separated: the shared figures
# `balance: headroom` reads, in the same round trip).
_GCRA_ALL_LUA = (
    (
        _NOW_LUA
        + """
local now = now_from(ARGV[1])
local longest = 0
local tats = {}
for i = 1, #KEYS do
  local cost = tonumber(ARGV[3*i-1])
  local interval, burst = tonumber(ARGV[3*i]), tonumber(ARGV[3*i+1])
  local tat = tonumber(redis.call('GET', KEYS[i]))
  if tat == nil or tat < now then tat = now end
  local wait = tat + (math.min(cost, burst) - burst) * interval - now
  if wait > EPSILON and wait > longest then longest = wait end
  tats[i] = tat + cost * interval
end
if longest > 0 then return string.format('%.17g', longest) end
local out = {'0'}
for i = 1, #KEYS do
  if tats[i] > now then
    redis.call('SET', KEYS[i], string.format('%.17g', tats[i]),
               'PX', math.ceil((tats[i] - now) * 1000) + SLACK_MS)
  end
  out[i + 1] = string.format('%.17g', math.max(tats[i] - now, 0))
end
return table.concat(out, ' ')
"""
    )
    .replace("EPSILON", repr(gcra.EPSILON))
    .replace("SLACK_MS", str(SLACK_MS))
)

# KEYS[1] = P rl:<key>; ARGV = delta, interval, now ('' = server TIME).
_ADJUST_LUA = (
    _NOW_LUA
    + """
local delta, interval = tonumber(ARGV[1]), tonumber(ARGV[2])
local now = now_from(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]))
if tat == nil or tat < now then tat = now end
local new_tat = math.max(tat + delta * interval, now)
if new_tat > now then
  redis.call('SET', KEYS[1], string.format('%.17g', new_tat),
             'PX', math.ceil((new_tat - now) * 1000) + SLACK_MS)
else
  redis.call('DEL', KEYS[1])
end
return 0
"""
).replace("SLACK_MS", str(SLACK_MS))

# KEYS[1] = P hold:<key>; ARGV = until, expiry in ms. Keeps the later of stored and new.
_HOLD_LUA = """
local cur = tonumber(redis.call('GET', KEYS[1]))
if cur ~= nil and cur >= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""

# KEYS[1] = P ctr:<key>; ARGV = amount, now, ttl (s), expiry in ms. Returns the new total.
_INCR_LUA = """
local now = tonumber(ARGV[2])
local exp = tonumber(redis.call('HGET', KEYS[1], 'exp'))
if exp == nil or exp <= now then
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'exp', string.format('%.17g', now + tonumber(ARGV[3])))
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
end
return redis.call('HINCRBYFLOAT', KEYS[1], 'v', ARGV[1])
"""

_S = TypeVar("_S", Script, AsyncScript)


@dataclass(frozen=True, slots=True)
class Scripts(Generic[_S]):
    gcra: _S
    gcra_all: _S
    adjust: _S
    hold: _S
    incr: _S

    @classmethod
    def register(cls, register: Callable[[str], _S]) -> Scripts[_S]:
        return cls(
            gcra=register(_GCRA_LUA),
            gcra_all=register(_GCRA_ALL_LUA),
            adjust=register(_ADJUST_LUA),
            hold=register(_HOLD_LUA),
            incr=register(_INCR_LUA),
        )
