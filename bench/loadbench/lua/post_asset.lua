-- POST /api/v1/assets with Basic auth. The first script argument is the
-- base64 of "user:password", or, when it holds a space, the Authorization
-- header's whole value (PocketBase: "Bearer <superuser token>"); the
-- second, if given, replaces the JSON body. The request is built once per
-- thread (wrk does so when no request() function is defined), so the load
-- generator spends its CPU on sending, not on Lua.
function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  if args[1]:find(" ", 1, true) then
    wrk.headers["Authorization"] = args[1]
  else
    wrk.headers["Authorization"] = "Basic " .. args[1]
  end
  wrk.body = args[2] or '{"name":"bench asset","is_active":true,"analyst_id":1,"inception_date":"2024-01-02"}'
end
