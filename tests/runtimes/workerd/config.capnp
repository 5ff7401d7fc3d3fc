# workerd config for the runtime test: one worker built from dist/workerd (npm run bundle) and the fixture.
# Run: npx workerd serve tests/runtimes/workerd/config.capnp --socket-addr http=127.0.0.1:PORT
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [(name = "main", worker = .worker)],
  sockets = [(name = "http", address = "127.0.0.1:0", http = (), service = "main")],
);

const worker :Workerd.Worker = (
  modules = [
    (name = "worker.mjs", esModule = embed "worker.mjs"),
    (name = "check.mjs", esModule = embed "../check.mjs"),
    (name = "infer.js", esModule = embed "../../../dist/workerd/infer.js"),
    (name = "recur.simd.wasm", wasm = embed "../../../dist/workerd/recur.simd.wasm"),
    (name = "recur.relaxed.wasm", wasm = embed "../../../dist/workerd/recur.relaxed.wasm"),
    (name = "model.safetensors", data = embed "../fixture/checkpoint/model.safetensors"),
    (name = "config.json", text = embed "../fixture/checkpoint/config.json"),
    (name = "expected.json", json = embed "../fixture/expected.json"),
  ],
  compatibilityDate = "2026-11-01",
);
