/**
 * fengari's configuration, read once when fengari loads (so this module is imported before it):
 * integral floats print without ".0", as Lua 5.1's numbers do (`tostring(10/2) == "5"`).
 */
process.env.FENGARICONF = JSON.stringify({ LUA_COMPAT_FLOATSTRING: true });
