-- GET /auth/validate, cycling through many tokens (one per line in args[1]),
-- so the benchmark measures many sessions rather than one hot token.
local tokens = {}
local i = 0

function init(args)
  for line in io.lines(args[1]) do
    tokens[#tokens + 1] = line
  end
  i = math.random(#tokens)
end

function request()
  i = i % #tokens + 1
  return wrk.format("GET", "/auth/validate", { ["Authorization"] = "Bearer " .. tokens[i] })
end
