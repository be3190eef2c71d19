import cProfile, time, os
_pr = cProfile.Profile(); _t = time.perf_counter(); _pr.enable()
exec(compile(open("app.py").read(), "app.py", "exec"))
_pr.disable()
if os.environ.get("GC_PROF"):
    _pr.dump_stats(f"/tmp/appr_{int(time.time()*1000)}.prof")
print("script", round(time.perf_counter() - _t, 2))
