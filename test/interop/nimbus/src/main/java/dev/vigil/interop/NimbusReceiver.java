package dev.vigil.interop;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyConverter;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.BadJWSException;
import com.nimbusds.jose.proc.DefaultJOSEObjectTypeVerifier;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jose.util.JSONObjectUtils;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.jwt.proc.BadJWTException;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.text.ParseException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A Shared Signals receiver as Java identity products build one: Nimbus JOSE+JWT verifies every
 * Security Event Token Vigil sends, with the key chosen from Vigil's published JWKS by the token's
 * kid and alg (DefaultJWTProcessor with a JWSVerificationKeySelector), typ secevent+jwt, iss and
 * aud checked.
 *
 * <p>The conversation with the test that runs it (test/live/ssf-nimbus.e2e.test.ts), one JSON
 * object a line: it reads the transmitter metadata and the JWKS, listens for pushed SETs (RFC 8935;
 * a SET that does not verify is answered 400, as the RFC says, so Vigil drops it instead of
 * retrying) and prints {"listening": url}. Then it reads {"pollUrl", "pushed", "polled"} on stdin,
 * polls that stream (RFC 8936; acknowledging what verified, reporting the rest in setErrs) until it
 * has seen "polled" SETs, waits for "pushed" pushed ones, and prints one summary line: the JWKS it
 * read, verified and rejected counts, the algorithms seen, the verified SETs' event types and txn
 * claims ("push:<txn>", "poll:<txn>") and each rejection's reason.
 *
 * <p>Arguments: --issuer URL --audience AUD --token BEARER [--push-authorization VALUE]
 * [--timeout-ms N]. Exit 0 after the summary (which says whether everything expected arrived); 1
 * when the transmitter cannot be read or the arguments are wrong.
 */
public final class NimbusReceiver {
  private static final String SET_TYPE = "secevent+jwt";

  /** Every asymmetric algorithm a transmitter may sign SETs with: the token's own alg and kid choose the key. */
  private static final Set<JWSAlgorithm> ACCEPTED =
      Set.of(JWSAlgorithm.ES256, JWSAlgorithm.RS256, JWSAlgorithm.PS256, JWSAlgorithm.EdDSA, JWSAlgorithm.Ed25519);

  private record Outcome(String via, String alg, String kid, boolean verified, String jti, String txn, String event, String err, String error) {}

  private final DefaultJWTProcessor<SecurityContext> processor = new DefaultJWTProcessor<>();
  private final Map<String, Outcome> pushed = new LinkedHashMap<>();
  private final Map<String, Outcome> polled = new LinkedHashMap<>();

  private NimbusReceiver(JWKSet jwks, String issuer, String audience) {
    processor.setJWSTypeVerifier(new DefaultJOSEObjectTypeVerifier<>(new JOSEObjectType(SET_TYPE)));
    processor.setJWSKeySelector(new JWSVerificationKeySelector<>(ACCEPTED, new ImmutableJWKSet<>(jwks)));
    processor.setJWTClaimsSetVerifier(
        new DefaultJWTClaimsVerifier<>(audience, new JWTClaimsSet.Builder().issuer(issuer).build(), Set.of("jti", "iat", "events")));
  }

  /** One SET through Nimbus; never throws. */
  private Outcome verify(String via, String token) {
    String alg = null;
    String kid = null;
    String jti = null;
    try {
      SignedJWT jwt = SignedJWT.parse(token);
      JWSHeader header = jwt.getHeader();
      alg = header.getAlgorithm().getName();
      kid = header.getKeyID();
      jti = jwt.getJWTClaimsSet().getJWTID();
      JWTClaimsSet claims = processor.process(jwt, null);
      Map<String, Object> events = claims.getJSONObjectClaim("events");
      String event = events != null && events.size() == 1 ? events.keySet().iterator().next() : null;
      return new Outcome(via, alg, kid, true, claims.getJWTID(), claims.getStringClaim("txn"), event, null, null);
    } catch (ParseException | BadJOSEException | JOSEException e) {
      return new Outcome(via, alg, kid, false, jti, null, null, errCode(e), e.getClass().getSimpleName() + ": " + e.getMessage());
    }
  }

  /** The RFC 8935 error code a receiver answers with for this failure. */
  private static String errCode(Exception e) {
    if (e instanceof BadJWTException) {
      String m = String.valueOf(e.getMessage());
      if (m.contains("aud")) return "invalid_audience";
      if (m.contains("iss")) return "invalid_issuer";
      return "invalid_request";
    }
    if (e instanceof BadJWSException) return "authentication_failed";
    if (e instanceof ParseException) return "invalid_request";
    return "invalid_key"; // no key in the JWKS Nimbus could select for the token's alg and kid
  }

  private void onPush(HttpExchange ex, String expectedAuthorization) throws IOException {
    try {
      if (!"POST".equals(ex.getRequestMethod())) {
        respond(ex, 405, "");
        return;
      }
      if (expectedAuthorization != null && !expectedAuthorization.equals(ex.getRequestHeaders().getFirst("Authorization"))) {
        respond(ex, 401, "");
        return;
      }
      String token = new String(ex.getRequestBody().readAllBytes(), UTF_8).trim();
      if (!"application/secevent+jwt".equals(ex.getRequestHeaders().getFirst("Content-Type"))) {
        respond(ex, 400, json(Map.of("err", "invalid_request", "description", "content-type must be application/secevent+jwt")));
        return;
      }
      Outcome o = verify("push", token);
      synchronized (this) {
        pushed.put(o.jti() != null ? o.jti() : token, o);
      }
      if (o.verified()) respond(ex, 202, "");
      else respond(ex, 400, json(Map.of("err", o.err(), "description", truncate(o.error()))));
    } finally {
      ex.close();
    }
  }

  /** Polls until `expected` SETs were seen (or the deadline), acknowledging what verified and reporting the rest. */
  private void poll(HttpClient http, String pollUrl, String token, int expected, long deadline)
      throws IOException, InterruptedException, ParseException {
    List<String> ack = new ArrayList<>();
    Map<String, Object> setErrs = new LinkedHashMap<>();
    for (; ; ) {
      boolean done = polled.size() >= expected || System.currentTimeMillis() > deadline;
      Map<String, Object> req = new LinkedHashMap<>();
      req.put("returnImmediately", true);
      req.put("maxEvents", done ? 0 : 100);
      if (!ack.isEmpty()) req.put("ack", ack);
      if (!setErrs.isEmpty()) req.put("setErrs", setErrs);
      Map<String, Object> res = parse(send(http, post(pollUrl, token, json(req)), 200), pollUrl);
      if (done) return;
      ack = new ArrayList<>();
      setErrs = new LinkedHashMap<>();
      Map<String, Object> sets = JSONObjectUtils.getJSONObject(res, "sets");
      for (Map.Entry<String, Object> e : sets.entrySet()) {
        Outcome o = verify("poll", String.valueOf(e.getValue()));
        polled.put(e.getKey(), o);
        if (o.verified()) ack.add(e.getKey());
        else setErrs.put(e.getKey(), Map.of("err", o.err(), "description", truncate(o.error())));
      }
      if (sets.isEmpty()) Thread.sleep(200);
    }
  }

  private synchronized Map<String, Object> summary(JWKSet jwks, int expectPushed, int expectPolled) {
    List<Outcome> all = new ArrayList<>(pushed.values());
    all.addAll(polled.values());
    Map<String, Integer> algs = new TreeMap<>();
    Map<String, Integer> errors = new TreeMap<>();
    Map<String, Integer> events = new TreeMap<>();
    List<String> txns = new ArrayList<>();
    int verified = 0;
    for (Outcome o : all) {
      algs.merge(String.valueOf(o.alg()), 1, Integer::sum);
      if (o.verified()) {
        verified++;
        events.merge(String.valueOf(o.event()), 1, Integer::sum);
        if (o.txn() != null) txns.add(o.via() + ":" + o.txn());
      } else errors.merge(o.error(), 1, Integer::sum);
    }
    List<Map<String, Object>> keys = new ArrayList<>();
    for (JWK k : jwks.getKeys()) {
      Map<String, Object> key = new LinkedHashMap<>();
      key.put("kid", k.getKeyID());
      key.put("kty", k.getKeyType().getValue());
      key.put("alg", k.getAlgorithm() != null ? k.getAlgorithm().getName() : null);
      keys.add(key);
    }
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("summary", true);
    s.put("complete", pushed.size() >= expectPushed && polled.size() >= expectPolled);
    s.put("jwks", keys);
    // The JWKS keys Nimbus can turn into Java keys at all (it skips the ones it cannot).
    s.put("javaKeys", KeyConverter.toJavaKeys(jwks.getKeys()).size());
    s.put("pushed", counts(pushed.values()));
    s.put("polled", counts(polled.values()));
    s.put("verified", verified);
    s.put("rejected", all.size() - verified);
    s.put("algs", algs);
    s.put("events", events);
    s.put("txns", txns);
    s.put("errors", errors);
    return s;
  }

  private static Map<String, Object> counts(Iterable<Outcome> outcomes) {
    int ok = 0;
    int bad = 0;
    for (Outcome o : outcomes) {
      if (o.verified()) ok++;
      else bad++;
    }
    Map<String, Object> c = new LinkedHashMap<>();
    c.put("verified", ok);
    c.put("rejected", bad);
    return c;
  }

  public static void main(String[] argv) throws Exception {
    Map<String, String> args = options(argv);
    String issuer = required(args, "issuer").replaceAll("/+$", "");
    String audience = required(args, "audience");
    String token = required(args, "token");
    String pushAuthorization = args.get("push-authorization");
    long timeoutMs = Long.parseLong(args.getOrDefault("timeout-ms", "60000"));

    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    String configurationUrl = issuer + "/.well-known/ssf-configuration";
    Map<String, Object> metadata = parse(send(http, HttpRequest.newBuilder(URI.create(configurationUrl)).GET().build(), 200), configurationUrl);
    String jwksUri = JSONObjectUtils.getString(metadata, "jwks_uri");
    if (jwksUri == null) fail(configurationUrl + ": no jwks_uri");
    JWKSet jwks;
    try {
      jwks = JWKSet.parse(send(http, HttpRequest.newBuilder(URI.create(jwksUri)).GET().build(), 200));
    } catch (ParseException e) {
      fail(jwksUri + ": not a JWKS Nimbus can read (" + e.getMessage() + ")");
      return;
    }

    NimbusReceiver receiver = new NimbusReceiver(jwks, issuer, audience);
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/events", ex -> receiver.onPush(ex, pushAuthorization));
    server.start();
    try {
      print(Map.of("listening", "http://127.0.0.1:" + server.getAddress().getPort() + "/events"));

      String line = new BufferedReader(new InputStreamReader(System.in, UTF_8)).readLine();
      if (line == null) fail("stdin closed before the plan: {\"pollUrl\", \"pushed\", \"polled\"}");
      Map<String, Object> plan = parse(line, "stdin");
      int expectPushed = JSONObjectUtils.getInt(plan, "pushed");
      int expectPolled = JSONObjectUtils.getInt(plan, "polled");
      long deadline = System.currentTimeMillis() + timeoutMs;
      String pollUrl = JSONObjectUtils.getString(plan, "pollUrl");
      if (pollUrl != null) receiver.poll(http, pollUrl, token, expectPolled, deadline);
      while (System.currentTimeMillis() < deadline) {
        synchronized (receiver) {
          if (receiver.pushed.size() >= expectPushed) break;
        }
        Thread.sleep(50);
      }
      print(receiver.summary(jwks, expectPushed, expectPolled));
    } finally {
      server.stop(0);
    }
    System.exit(0);
  }

  // --- plumbing ------------------------------------------------------------------------------

  private static HttpRequest post(String url, String bearer, String body) {
    return HttpRequest.newBuilder(URI.create(url))
        .header("content-type", "application/json")
        .header("authorization", "Bearer " + bearer)
        .timeout(Duration.ofSeconds(30))
        .POST(HttpRequest.BodyPublishers.ofString(body, UTF_8))
        .build();
  }

  private static String send(HttpClient http, HttpRequest req, int expectedStatus) throws IOException, InterruptedException {
    HttpResponse<String> res = http.send(req, HttpResponse.BodyHandlers.ofString(UTF_8));
    if (res.statusCode() != expectedStatus) fail(req.method() + " " + req.uri() + ": HTTP " + res.statusCode() + " " + res.body());
    return res.body();
  }

  private static Map<String, Object> parse(String text, String where) {
    try {
      return JSONObjectUtils.parse(text);
    } catch (ParseException e) {
      fail(where + ": not a JSON object (" + e.getMessage() + ")");
      return Map.of();
    }
  }

  private static String json(Map<String, ?> value) {
    return JSONObjectUtils.toJSONString(new HashMap<>(value));
  }

  private static void print(Map<String, ?> line) {
    System.out.println(JSONObjectUtils.toJSONString(new LinkedHashMap<>(line)));
    System.out.flush();
  }

  private static void respond(HttpExchange ex, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(UTF_8);
    if (!body.isEmpty()) ex.getResponseHeaders().set("content-type", "application/json");
    ex.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
    if (bytes.length > 0) ex.getResponseBody().write(bytes);
  }

  private static String truncate(String s) {
    return s.length() > 1000 ? s.substring(0, 1000) : s;
  }

  private static Map<String, String> options(String[] argv) {
    Map<String, String> out = new HashMap<>();
    for (int i = 0; i < argv.length; i++) {
      if (!argv[i].startsWith("--") || i + 1 >= argv.length) fail("usage: --issuer URL --audience AUD --token BEARER [--push-authorization V] [--timeout-ms N]");
      out.put(argv[i].substring(2), argv[++i]);
    }
    return out;
  }

  private static String required(Map<String, String> args, String name) {
    String v = args.get(name);
    if (v == null || v.isEmpty()) fail("--" + name + " is required");
    return v;
  }

  private static void fail(String message) {
    System.err.println("nimbus-receiver: " + message);
    System.exit(1);
  }
}
