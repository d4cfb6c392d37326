{
  "targets": [
    {
      "target_name": "xp_fast",
      "sources": ["src/fast.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-O2", "-ffp-contract=off", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
