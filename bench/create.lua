-- POST /campaigns with a fixed valid body.
wrk.method = "POST"
wrk.body = '{"name": "Bench", "goal": "sales", "settings": {"daily_limit": 10}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer bench"
