-- POST /auth/login with one account's credentials (args[1], args[2]).
function init(args)
  wrk.method = "POST"
  wrk.path = "/auth/login"
  wrk.headers["Content-Type"] = "application/json"
  wrk.body = string.format('{"email":"%s","password":"%s"}', args[1], args[2])
end
