// xp's start-up helpers (see ../README.md): the few system calls a cached `xp run` makes by the
// hundred, without the JavaScript objects Node builds around each one.
//   statMany(paths)          → Float64Array [size, mtimeMs, ctimeMs, ino] per path (NaN: no such file)
//   sha256(string | bytes)   → hex digest (strings as UTF-8), equal to node:crypto's
//   capture(file, args, cwd) → Promise<{ status, stdout }>: posix_spawn (no fork of this process),
//                              stdout read to the end on libuv's thread pool, stdin/stderr /dev/null
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define CHECK(call)                                                     \
  do {                                                                  \
    if ((call) != napi_ok) {                                            \
      napi_throw_error(env, NULL, "xp_fast: N-API call failed: " #call); \
      return NULL;                                                      \
    }                                                                   \
  } while (0)

// The UTF-8 bytes of a JavaScript string, NUL-terminated; `length` (if given) gets their number,
// which counts NUL characters inside the string too.
static char *string_arg_length(napi_env env, napi_value value, size_t *length) {
  size_t n;
  if (napi_get_value_string_utf8(env, value, NULL, 0, &n) != napi_ok) return NULL;
  char *text = malloc(n + 1);
  if (!text) return NULL;
  napi_get_value_string_utf8(env, value, text, n + 1, &n);
  if (length) *length = n;
  return text;
}

static char *string_arg(napi_env env, napi_value value) { return string_arg_length(env, value, NULL); }

// ---- statMany -------------------------------------------------------------------------------

// Node computes Stats#mtimeMs as sec * 1e3 + nsec / 1e6 in doubles: the same operations here
// (built with -ffp-contract=off, so no fused multiply-add changes the last bit).
static double ms(struct timespec t) { return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6; }

static napi_value stat_many(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  uint32_t n;
  CHECK(napi_get_array_length(env, argv[0], &n));
  void *data;
  napi_value buffer, result;
  CHECK(napi_create_arraybuffer(env, (size_t)n * 4 * sizeof(double), &data, &buffer));
  double *out = data;
  char path[4096];
  for (uint32_t i = 0; i < n; i++) {
    napi_value item;
    size_t length;
    CHECK(napi_get_element(env, argv[0], i, &item));
    struct stat s;
    if (napi_get_value_string_utf8(env, item, path, sizeof path, &length) != napi_ok || length >= sizeof path - 1 || stat(path, &s) != 0) {
      out[i * 4] = out[i * 4 + 1] = out[i * 4 + 2] = out[i * 4 + 3] = NAN;
      continue;
    }
    out[i * 4] = (double)s.st_size;
    out[i * 4 + 1] = ms(s.st_mtim);
    out[i * 4 + 2] = ms(s.st_ctim);
    out[i * 4 + 3] = (double)s.st_ino;
  }
  CHECK(napi_create_typedarray(env, napi_float64_array, (size_t)n * 4, buffer, 0, &result));
  return result;
}

// ---- sha256 (FIPS 180-4) --------------------------------------------------------------------

static const uint32_t K[64] = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

#define ROTR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void compress(uint32_t h[8], const uint8_t block[64]) {
  uint32_t w[64];
  for (int i = 0; i < 16; i++) w[i] = (uint32_t)block[i * 4] << 24 | (uint32_t)block[i * 4 + 1] << 16 | (uint32_t)block[i * 4 + 2] << 8 | block[i * 4 + 3];
  for (int i = 16; i < 64; i++) {
    uint32_t s0 = ROTR(w[i - 15], 7) ^ ROTR(w[i - 15], 18) ^ (w[i - 15] >> 3);
    uint32_t s1 = ROTR(w[i - 2], 17) ^ ROTR(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
  for (int i = 0; i < 64; i++) {
    uint32_t t1 = k + (ROTR(e, 6) ^ ROTR(e, 11) ^ ROTR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
    uint32_t t2 = (ROTR(a, 2) ^ ROTR(a, 13) ^ ROTR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    k = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
  }
  h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += k;
}

static void sha256_hex(const uint8_t *data, size_t length, char hex[65]) {
  uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  size_t full = length / 64 * 64;
  for (size_t i = 0; i < full; i += 64) compress(h, data + i);
  uint8_t tail[128] = {0};
  size_t rest = length - full;
  memcpy(tail, data + full, rest);
  tail[rest] = 0x80;
  size_t tail_length = rest + 9 <= 64 ? 64 : 128;
  uint64_t bits = (uint64_t)length * 8;
  for (int i = 0; i < 8; i++) tail[tail_length - 1 - i] = (uint8_t)(bits >> (8 * i));
  compress(h, tail);
  if (tail_length == 128) compress(h, tail + 64);
  static const char digits[] = "0123456789abcdef";
  for (int i = 0; i < 32; i++) {
    uint8_t byte = (uint8_t)(h[i / 4] >> (24 - 8 * (i % 4)));
    hex[i * 2] = digits[byte >> 4];
    hex[i * 2 + 1] = digits[byte & 15];
  }
  hex[64] = 0;
}

static napi_value sha256(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  napi_valuetype type;
  CHECK(napi_typeof(env, argv[0], &type));
  char hex[65];
  if (type == napi_string) {
    size_t length;
    char *text = string_arg_length(env, argv[0], &length);
    if (!text) {
      napi_throw_error(env, NULL, "xp_fast.sha256: out of memory");
      return NULL;
    }
    sha256_hex((const uint8_t *)text, length, hex);
    free(text);
  } else {
    bool typed;
    CHECK(napi_is_typedarray(env, argv[0], &typed));
    if (!typed) {
      napi_throw_type_error(env, NULL, "xp_fast.sha256: a string or a Uint8Array");
      return NULL;
    }
    napi_typedarray_type kind;
    size_t length, offset;
    void *data;
    napi_value arraybuffer;
    CHECK(napi_get_typedarray_info(env, argv[0], &kind, &length, &data, &arraybuffer, &offset));
    if (kind != napi_uint8_array) {
      napi_throw_type_error(env, NULL, "xp_fast.sha256: a string or a Uint8Array");
      return NULL;
    }
    sha256_hex(data, length, hex);
  }
  CHECK(napi_create_string_latin1(env, hex, 64, &result));
  return result;
}

// ---- capture --------------------------------------------------------------------------------

typedef struct {
  char *file, *cwd, **args;
  size_t nargs;
  int status;  // exit code; -1: could not spawn or killed
  char *out;
  size_t out_length;
  napi_deferred deferred;
  napi_async_work work;
} Capture;

static const size_t MAX_OUTPUT = (size_t)256 << 20;

static void capture_execute(napi_env env, void *data) {
  (void)env;
  Capture *c = data;
  c->status = -1;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  if (c->cwd) posix_spawn_file_actions_addchdir_np(&actions, c->cwd);
  pid_t pid;
  int spawned = posix_spawnp(&pid, c->file, &actions, NULL, c->args, environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (spawned != 0) {
    close(fds[0]);
    return;
  }
  size_t capacity = 65536;
  c->out = malloc(capacity);
  for (;;) {
    if (c->out && c->out_length == capacity && capacity < MAX_OUTPUT) {
      char *grown = realloc(c->out, capacity * 2);
      if (grown) {
        c->out = grown;
        capacity *= 2;
      }
    }
    if (!c->out || c->out_length == capacity) break;  // out of memory or over the cap: stop reading
    ssize_t got = read(fds[0], c->out + c->out_length, capacity - c->out_length);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    c->out_length += (size_t)got;
  }
  close(fds[0]);
  int wstatus;
  while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  c->status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
}

static void capture_complete(napi_env env, napi_status status, void *data) {
  Capture *c = data;
  napi_value result, value;
  napi_create_object(env, &result);
  napi_create_int32(env, status == napi_ok ? c->status : -1, &value);
  napi_set_named_property(env, result, "status", value);
  napi_create_string_utf8(env, c->out ? c->out : "", c->out ? c->out_length : 0, &value);
  napi_set_named_property(env, result, "stdout", value);
  napi_resolve_deferred(env, c->deferred, result);
  napi_delete_async_work(env, c->work);
  for (size_t i = 0; i < c->nargs; i++) free(c->args[i]);
  free(c->args);
  free(c->file);
  free(c->cwd);
  free(c->out);
  free(c);
}

static napi_value capture(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], promise, name;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Capture *c = calloc(1, sizeof *c);
  uint32_t n;
  CHECK(napi_get_array_length(env, argv[1], &n));
  c->file = string_arg(env, argv[0]);
  c->cwd = string_arg(env, argv[2]);
  c->nargs = n + 1;
  c->args = calloc(n + 2, sizeof(char *));
  c->args[0] = string_arg(env, argv[0]);
  for (uint32_t i = 0; i < n; i++) {
    napi_value item;
    CHECK(napi_get_element(env, argv[1], i, &item));
    c->args[i + 1] = string_arg(env, item);
  }
  CHECK(napi_create_promise(env, &c->deferred, &promise));
  CHECK(napi_create_string_utf8(env, "xp_fast.capture", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_create_async_work(env, NULL, name, capture_execute, capture_complete, c, &c->work));
  CHECK(napi_queue_async_work(env, c->work));
  return promise;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor properties[] = {
    {"statMany", NULL, stat_many, NULL, NULL, NULL, napi_default, NULL},
    {"sha256", NULL, sha256, NULL, NULL, NULL, napi_default, NULL},
    {"capture", NULL, capture, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof properties / sizeof *properties, properties);
  return exports;
}
