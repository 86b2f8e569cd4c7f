-- wrk script: POST the JSON body in the file named by the BODY environment variable.
local file = io.open(os.getenv("BODY"), "r")
wrk.method = "POST"
wrk.body = file:read("*a")
wrk.headers["Content-Type"] = "application/json"
file:close()
