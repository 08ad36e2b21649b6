-- POST /auth/refresh. Each wrk thread owns a pool of refresh tokens (the lines
-- of args[1] whose number modulo args[2] equals the thread's id); a request
-- takes one, its response gives back the rotated one. A token is never sent
-- twice, so no request trips reuse detection.
local counter = 0
local pool = {}

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init(args)
  local n = 0
  for line in io.lines(args[1]) do
    if n % tonumber(args[2]) == id then
      pool[#pool + 1] = line
    end
    n = n + 1
  end
end

function request()
  local token = table.remove(pool) or "exhausted"
  return wrk.format("POST", "/auth/refresh", { ["Content-Type"] = "application/json" },
    '{"refresh_token":"' .. token .. '"}')
end

function response(status, headers, body)
  local token = body:match('"refresh_token":"([^"]+)"')
  if token then
    pool[#pool + 1] = token
  elseif os.getenv("REFRESH_DEBUG") then
    io.stderr:write(status .. " " .. body .. "\n")
  end
end
