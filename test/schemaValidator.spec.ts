import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { auditSchemaDir, defaultSchemaDir, loadSchemaValidator, type SchemaCheck, type SchemaValidator } from "./support/schemaValidator";
import { re2RegExp, Re2TranslationError, translateRe2 } from "./support/re2";

type Manifest = Record<string, unknown>;

function docs(text: string): Manifest[] {
  return YAML.parseAllDocuments(text).map((d) => d.toJS() as Manifest);
}

function doc(text: string): Manifest {
  const all = docs(text);
  assert.strictEqual(all.length, 1);
  return all[0];
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

function assertOk(check: SchemaCheck): void {
  assert.ok(check.ok, `expected no errors, got:\n${check.errors.join("\n")}`);
  assert.deepStrictEqual(check.errors, []);
}

function assertError(check: SchemaCheck, ...fragments: string[]): void {
  assert.ok(!check.ok, "expected the manifest to be rejected");
  for (const fragment of fragments) {
    assert.ok(
      check.errors.some((e) => e.includes(fragment)),
      `expected an error containing ${JSON.stringify(fragment)}, got:\n${check.errors.join("\n")}`,
    );
  }
}

// --- Examples copied from ../shared/docs/upstream-apis.md (placeholders filled in) ---------------

const KATACONFIG = doc(`
apiVersion: kataconfiguration.openshift.io/v1
kind: KataConfig
metadata:
  name: cluster-kataconfig
spec:
  checkNodeEligibility: false
  logLevel: info
  kataConfigPoolSelector:
    matchLabels:
      node-role.kubernetes.io/kata-oc: ""
`);

const KUADRANT = doc(`
apiVersion: kuadrant.io/v1beta1
kind: Kuadrant
metadata: {name: kuadrant, namespace: kuadrant-system}
spec: {}
`);

const AUTHPOLICY = doc(`
apiVersion: kuadrant.io/v1
kind: AuthPolicy
metadata: {name: mcp-tool-policy, namespace: gateway-system}
spec:
  targetRef:
    group: gateway.networking.k8s.io
    kind: Gateway
    name: mcp-gateway
    sectionName: mcp
  rules:
    authentication:
      "service-account":
        kubernetesTokenReview:
          audiences: ["mcp-gateway"]
    authorization:
      "tool-allowlist":
        opa:
          rego: |
            import rego.v1
            tool := input.request.headers["x-mcp-toolname"]
            server := input.request.headers["x-mcp-servername"]
            allowed := {"mcp-servers/search": {"search_docs"}}
            allow if input.request.method != "POST"
            allow if input.request.headers["x-mcp-method"] != "tools/call"
            allow if allowed[server][tool]
          allValues: false
    response:
      unauthorized:
        body:
          value: '{"error":"Forbidden","message":"tool not allowed"}'
`);

const AUTHCONFIG = doc(`
apiVersion: authorino.kuadrant.io/v1beta3
kind: AuthConfig
metadata: {name: mcp-tool-arguments, namespace: gateway-system}
spec:
  hosts: ["mcp.example.com"]
  authorization:
    "tool-arguments":
      opa:
        version: v1
        rego: |
          import rego.v1
          allow if true
`);

const AUTHORIZATIONPOLICY = doc(`
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: mcp-ext-authz, namespace: gateway-system}
spec:
  targetRefs:
  - {group: gateway.networking.k8s.io, kind: Gateway, name: mcp-gateway}
  action: CUSTOM
  provider: {name: kuadrant-authorino}
  rules:
  - to:
    - operation: {methods: ["POST"], paths: ["/mcp", "/mcp/*"]}
`);

const [SAIL_ISTIO, SAIL_ISTIOCNI] = docs(`
apiVersion: sailoperator.io/v1
kind: Istio
metadata: {name: default}
spec:
  version: v1.30-latest
  namespace: istio-system
  updateStrategy: {type: InPlace}
  values:
    meshConfig:
      outboundTrafficPolicy:
        mode: REGISTRY_ONLY
      extensionProviders:
      - name: kuadrant-authorino
        envoyExtAuthzGrpc:
          service: authorino-authorino-authorization.kuadrant-system.svc.cluster.local
          port: 50051
          timeout: 2s
          failOpen: false
          includeRequestBodyInCheck:
            maxRequestBytes: 1048576
            allowPartialMessage: false
            packAsBytes: false
---
apiVersion: sailoperator.io/v1
kind: IstioCNI
metadata: {name: default}
spec:
  version: v1.30-latest
  namespace: istio-cni
`);

const [SERVICEENTRY, SIDECAR] = docs(`
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: egress-api-github-com, namespace: agents}
spec:
  hosts: ["api.github.com"]
  location: MESH_EXTERNAL
  resolution: DNS
  ports:
  - {number: 443, name: https, protocol: HTTPS}
  exportTo: ["."]
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: agents}
spec:
  outboundTrafficPolicy:
    mode: REGISTRY_ONLY
  egress:
  - hosts: ["./*", "istio-system/*", "gateway-system/*"]
`);

const [GATEWAY, HTTPROUTE, REFERENCEGRANT] = docs(`
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: mcp-gateway, namespace: gateway-system}
spec:
  gatewayClassName: istio
  listeners:
  - {name: mcp,  hostname: "mcp.example.com", port: 8080, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}
  - {name: mcps, hostname: "*.mcp.local",     port: 8080, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: search-mcp, namespace: mcp-servers}
spec:
  parentRefs: [{name: mcp-gateway, namespace: gateway-system, sectionName: mcps}]
  hostnames: ["search.mcp.local"]
  rules:
  - matches: [{path: {type: PathPrefix, value: /}}]
    backendRefs: [{name: search-mcp, port: 9090}]
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: allow-mcp-extension, namespace: gateway-system}
spec:
  from: [{group: mcp.kuadrant.io, kind: MCPGatewayExtension, namespace: mcp-system}]
  to:   [{group: gateway.networking.k8s.io, kind: Gateway}]
`);

const CLUSTERSPIFFEID = doc(`
apiVersion: spire.spiffe.io/v1alpha1
kind: ClusterSPIFFEID
metadata: {name: agents}
spec:
  className: spire-server-spire
  spiffeIDTemplate: "spiffe://{{ .TrustDomain }}/ns/{{ .PodMeta.Namespace }}/sa/{{ .PodSpec.ServiceAccountName }}"
  namespaceSelector:
    matchLabels: {agent-security.io/agents: "true"}
  podSelector:
    matchLabels: {agent-security.io/spiffe: "true"}
  ttl: 1h
`);

const CILIUMNETWORKPOLICY = doc(`
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: agent-egress, namespace: agents}
spec:
  endpointSelector:
    matchLabels: {app.kubernetes.io/part-of: agent}
  egress:
  - toEndpoints:
    - matchLabels:
        k8s:io.kubernetes.pod.namespace: kube-system
        k8s:k8s-app: kube-dns
    toPorts:
    - ports: [{port: "53", protocol: ANY}]
      rules:
        dns:
        - matchPattern: "*"
  - toFQDNs:
    - matchName: api.github.com
    - matchPattern: "*.googleapis.com"
    toPorts:
    - ports: [{port: "443", protocol: TCP}]
`);

const [CLUSTERPOLICY, VALIDATINGPOLICY] = docs(`
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: agents-pod-security}
spec:
  background: true
  rules:
  - name: restricted
    match:
      any:
      - resources:
          kinds: [Pod]
          namespaceSelector:
            matchLabels: {agent-security.io/agents: "true"}
    validate:
      failureAction: Enforce
      podSecurity:
        level: restricted
        version: latest
        exclude: []
---
apiVersion: policies.kyverno.io/v1
kind: ValidatingPolicy
metadata: {name: agents-runtimeclass}
spec:
  validationActions: [Deny]
  matchConstraints:
    resourceRules:
    - {apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["pods"]}
    namespaceSelector:
      matchLabels: {agent-security.io/agents: "true"}
  validations:
  - expression: "object.spec.runtimeClassName == 'kata'"
    message: "agent pods must run with runtimeClassName kata"
`);

const [OPERATORGROUP, SUBSCRIPTION] = docs(`
apiVersion: operators.coreos.com/v1
kind: OperatorGroup
metadata: {name: sandboxed-containers, namespace: openshift-sandboxed-containers-operator}
spec:
  targetNamespaces: [openshift-sandboxed-containers-operator]
  upgradeStrategy: Default
---
apiVersion: operators.coreos.com/v1alpha1
kind: Subscription
metadata: {name: sandboxed-containers-operator, namespace: openshift-sandboxed-containers-operator}
spec:
  name: sandboxed-containers-operator
  channel: stable
  source: redhat-operators
  sourceNamespace: openshift-marketplace
  installPlanApproval: Automatic
`);

// --- Kubernetes built-ins shaped like the baseline (upstream-apis.md section 10) ----------------

const [NAMESPACE, NETWORKPOLICY, RUNTIMECLASS, VAP, VAP_BINDING] = docs(`
apiVersion: v1
kind: Namespace
metadata:
  name: agents
  labels:
    agent-security.io/agents: "true"
    pod-security.kubernetes.io/enforce: restricted
    pod-security.kubernetes.io/enforce-version: latest
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: agents}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
  egress:
  - to:
    - namespaceSelector:
        matchLabels: {kubernetes.io/metadata.name: kube-system}
      podSelector:
        matchLabels: {k8s-app: kube-dns}
    ports:
    - {protocol: UDP, port: 53}
    - {protocol: TCP, port: dns-tcp}
---
apiVersion: node.k8s.io/v1
kind: RuntimeClass
metadata: {name: kata}
handler: kata
overhead:
  podFixed: {cpu: 250m, memory: 350Mi}
scheduling:
  nodeSelector: {node-role.kubernetes.io/kata-oc: ""}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: agents-require-kata}
spec:
  failurePolicy: Fail
  matchConstraints:
    namespaceSelector:
      matchLabels: {agent-security.io/agents: "true"}
    resourceRules:
    - {apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["pods"]}
  validations:
  - expression: "object.spec.runtimeClassName == 'kata'"
    message: agent pods must run with runtimeClassName kata
    reason: Forbidden
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: agents-require-kata}
spec:
  policyName: agents-require-kata
  validationActions: [Deny]
`);

const DEPLOYMENT = doc(`
apiVersion: apps/v1
kind: Deployment
metadata:
  name: agent
  namespace: agents
  labels: {app.kubernetes.io/part-of: agent}
spec:
  replicas: 1
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 1, maxUnavailable: "25%"}
  selector:
    matchLabels: {app.kubernetes.io/name: agent}
  template:
    metadata:
      labels: {app.kubernetes.io/name: agent, app.kubernetes.io/part-of: agent}
    spec:
      runtimeClassName: kata
      automountServiceAccountToken: false
      serviceAccountName: agent
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        fsGroup: 10001
        seccompProfile: {type: RuntimeDefault}
        appArmorProfile: {type: RuntimeDefault}
      containers:
      - name: agent
        image: registry.example.com/agent@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
        imagePullPolicy: IfNotPresent
        ports: [{name: http, containerPort: 8080, protocol: TCP}]
        env:
        - {name: SPIFFE_ENDPOINT_SOCKET, value: "unix:///spiffe-workload-api/spire-agent.sock"}
        resources:
          requests: {cpu: 100m, memory: 128Mi}
          limits: {cpu: "1", memory: 512Mi, ephemeral-storage: 1Gi}
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          privileged: false
          capabilities: {drop: [ALL]}
        volumeMounts:
        - {name: tmp, mountPath: /tmp}
        - {name: credentials, mountPath: /var/run/credentials, readOnly: true}
        - {name: spiffe-workload-api, mountPath: /spiffe-workload-api, readOnly: true}
      volumes:
      - name: tmp
        emptyDir: {medium: Memory, sizeLimit: 64Mi}
      - name: credentials
        secret: {secretName: agent-credentials, defaultMode: 256}
      - name: spiffe-workload-api
        csi: {driver: csi.spiffe.io, readOnly: true}
`);

const DEPLOYMENT_PATCH: Manifest = {
  apiVersion: "apps/v1",
  kind: "DeploymentPatch",
  metadata: { name: "istiod", namespace: "istio-system", annotations: { "pulumi.com/patchForce": "true" } },
  spec: { template: { spec: { containers: [{ name: "discovery", env: [{ name: "PILOT_ENABLE_X", value: "true" }] }] } } },
};

const EXAMPLES: readonly Manifest[] = [
  KATACONFIG, KUADRANT, AUTHPOLICY, AUTHCONFIG, SAIL_ISTIO, SAIL_ISTIOCNI, SERVICEENTRY, SIDECAR, AUTHORIZATIONPOLICY,
  GATEWAY, HTTPROUTE, REFERENCEGRANT, CLUSTERSPIFFEID, CILIUMNETWORKPOLICY, CLUSTERPOLICY, VALIDATINGPOLICY, OPERATORGROUP,
  SUBSCRIPTION, NAMESPACE, NETWORKPOLICY, RUNTIMECLASS, VAP, VAP_BINDING, DEPLOYMENT, DEPLOYMENT_PATCH,
];

function label(m: Manifest): string {
  const meta = m.metadata as { name?: string } | undefined;
  return `${String(m.apiVersion)} ${String(m.kind)} ${meta?.name ?? ""}`;
}

describe("schemaValidator", () => {
  let v: SchemaValidator;
  before(() => {
    v = loadSchemaValidator();
  });

  describe("loading", () => {
    it("defaults to ../shared/crds next to the repo and honours CRD_SCHEMAS_DIR", () => {
      const saved = process.env.CRD_SCHEMAS_DIR;
      try {
        delete process.env.CRD_SCHEMAS_DIR;
        assert.strictEqual(defaultSchemaDir(), path.resolve(__dirname, "..", "..", "shared", "crds"));
        process.env.CRD_SCHEMAS_DIR = "/somewhere/else";
        assert.strictEqual(defaultSchemaDir(), "/somewhere/else");
      } finally {
        if (saved === undefined) delete process.env.CRD_SCHEMAS_DIR;
        else process.env.CRD_SCHEMAS_DIR = saved;
      }
    });

    it("gives a clear error when CRD_SCHEMAS_DIR points at a missing directory", () => {
      const saved = process.env.CRD_SCHEMAS_DIR;
      const missing = path.join(os.tmpdir(), "agent-security-no-such-crds-dir");
      try {
        process.env.CRD_SCHEMAS_DIR = missing;
        assert.throws(() => loadSchemaValidator(), (e: Error) => {
          assert.match(e.message, /schema directory .*agent-security-no-such-crds-dir does not exist/);
          assert.match(e.message, /CRD_SCHEMAS_DIR=/);
          return true;
        });
      } finally {
        if (saved === undefined) delete process.env.CRD_SCHEMAS_DIR;
        else process.env.CRD_SCHEMAS_DIR = saved;
      }
    });

    it("refuses a directory that holds no schemas", () => {
      const empty = fs.mkdtempSync(path.join(os.tmpdir(), "agent-security-empty-crds-"));
      try {
        assert.throws(() => loadSchemaValidator(empty), /holds no CustomResourceDefinition/);
      } finally {
        fs.rmSync(empty, { recursive: true, force: true });
      }
    });

    it("reads CRDs from multi-document files in any layout and skips values.yaml and non-CRD documents", () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "agent-security-crds-"));
      const crd = (kind: string): string => `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
    name: ${kind.toLowerCase()}s.example.com
spec:
    group: example.com
    names: {kind: ${kind}, plural: ${kind.toLowerCase()}s}
    scope: Cluster
    versions:
    -   name: v1
        served: true
        storage: true
        schema:
            openAPIV3Schema:
                type: object
                properties:
                    spec:
                        type: object
                        required: [size]
                        properties:
                            size: {type: integer, format: int32}
    -   name: v1beta1
        served: true
        storage: false
        deprecated: true
        deprecationWarning: example.com/v1beta1 ${kind} is going away
        schema:
            openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
    -   name: v1alpha1
        served: false
        storage: false
        schema:
            openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
`;
      try {
        fs.mkdirSync(path.join(dir, "chart"));
        fs.writeFileSync(path.join(dir, "chart", "values.yaml"), crd("Gadget"));
        fs.writeFileSync(path.join(dir, "all.yaml"), `# header comment\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n---\n${crd("Widget")}`);
        const local = loadSchemaValidator(dir);
        assert.ok(local.knows("example.com/v1", "Widget"));
        assert.ok(!local.knows("example.com/v1", "Gadget"), "values.yaml must not be read as a schema");
        assert.ok(!local.knows("v1", "ConfigMap"));
        const widget = (apiVersion: string, spec: unknown, metadata: Record<string, unknown> = { name: "w" }): SchemaCheck =>
          local.validate({ apiVersion, kind: "Widget", metadata, spec });
        assertOk(widget("example.com/v1", { size: 3 }));
        assertError(widget("example.com/v1", { size: 3, colour: "red" }), 'spec: unknown field "colour"');
        assertError(widget("example.com/v1", {}), 'spec: missing required field "size"');
        assertError(widget("example.com/v1beta1", { size: 3 }), "example.com/v1beta1 Widget is going away", "render example.com/v1");
        assertError(widget("example.com/v1alpha1", { size: 3 }), "version v1alpha1 is not served");
        // Without kubernetes/*.json, metadata is still checked lightly.
        assertError(widget("example.com/v1", { size: 3 }, { name: "w", labels: { a: 1 } }), "metadata.labels.a: must be string");
        const scoped = widget("example.com/v1", { size: 3 }, { name: "w", namespace: "agents" });
        assert.ok(scoped.warnings.some((w) => w.includes("cluster-scoped")), scoped.warnings.join("\n"));
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it("fails loudly, naming the field, when a CRD pattern cannot be translated", () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "agent-security-crds-"));
      try {
        fs.writeFileSync(path.join(dir, "crd.yaml"), `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: things.example.com}
spec:
  group: example.com
  names: {kind: Thing, plural: things}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              lazy: {type: string, pattern: "(?U)a+"}
`);
        const local = loadSchemaValidator(dir);
        assert.throws(() => local.validate({ apiVersion: "example.com/v1", kind: "Thing", metadata: { name: "t" } }), (e: Error) => {
          assert.match(e.message, /cannot check crd\.yaml example\.com\/v1 Thing faithfully/);
          assert.match(e.message, /\.spec\.lazy: RE2 pattern "\(\?U\)a\+"/);
          return true;
        });
        assert.deepStrictEqual(auditSchemaDir(dir).problems.length, 2); // full and patch variant
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it("returns the same validator for the same directory", () => {
      assert.strictEqual(loadSchemaValidator(defaultSchemaDir()), v);
    });

    it("converts every upstream schema without dropping a keyword or a pattern", function () {
      this.timeout(60000);
      const audit = auditSchemaDir();
      assert.deepStrictEqual(audit.problems, []);
      assert.ok(audit.crdVersions > 90, `only ${audit.crdVersions} CRD versions found`);
      assert.ok(audit.builtinKinds > 50, `only ${audit.builtinKinds} built-in kinds found`);
      // The RE2-only patterns upstream uses today (cilium Hubble log value, ZTWIM JWT issuer).
      assert.ok(audit.translatedPatterns.includes("^\\PC*$"));
      assert.ok(audit.translatedPatterns.includes("^(?i)https?://[^\\s?#]+$"));
    });

    it("knows CRD kinds, built-ins and Patch kinds, but not unknown ones", () => {
      assert.ok(v.knows("cilium.io/v2", "CiliumNetworkPolicy"));
      assert.ok(v.knows("networking.istio.io/v1", "ServiceEntry"));
      assert.ok(v.knows("v1", "Namespace"));
      assert.ok(v.knows("apps/v1", "Deployment"));
      assert.ok(v.knows("apps/v1", "DeploymentPatch"));
      assert.ok(v.knows("sailoperator.io/v1", "IstioPatch"));
      assert.ok(!v.knows("sailoperator.io/v2", "Istio"));
      assert.ok(!v.knows("example.com/v1", "Widget"));
      assert.ok(!v.knows("apps/v1", "Widget"));
    });
  });

  describe("accepts the examples of upstream-apis.md", () => {
    for (const manifest of EXAMPLES) {
      it(`accepts ${label(manifest)}`, () => {
        assertOk(v.validate(manifest));
      });
    }

    it("warns (without failing) about a served legacy version", () => {
      const check = v.validate(REFERENCEGRANT);
      assertOk(check);
      assert.ok(check.warnings.some((w) => w.includes("gateway.networking.k8s.io/v1") && w.includes("preferred")), check.warnings.join("\n"));
    });

    it("does not change the manifest it checks", () => {
      const before = clone(DEPLOYMENT);
      v.validate(DEPLOYMENT);
      assert.deepStrictEqual(DEPLOYMENT, before);
    });
  });

  describe("rejects the typical mistakes", () => {
    it("rejects a Cilium port given as the number 53", () => {
      const m = clone(CILIUMNETWORKPOLICY);
      (m as { spec: { egress: { toPorts: { ports: { port: unknown }[] }[] }[] } }).spec.egress[0].toPorts[0].ports[0].port = 53;
      assertError(v.validate(m), "spec.egress[0].toPorts[0].ports[0].port: must be string, got integer 53");
    });

    it("rejects a ServiceEntry port without name", () => {
      const m = clone(SERVICEENTRY);
      (m as { spec: { ports: unknown[] } }).spec.ports = [{ number: 443, protocol: "HTTPS" }];
      assertError(v.validate(m), 'spec.ports[0]: missing required field "name"');
    });

    it("rejects opa.version inside an AuthPolicy (the field exists only in AuthConfig)", () => {
      const m = clone(AUTHPOLICY) as { spec: { rules: { authorization: Record<string, { opa: Record<string, unknown> }> } } };
      m.spec.rules.authorization["tool-allowlist"].opa.version = "v1";
      assertError(v.validate(m as Manifest), 'spec.rules.authorization["tool-allowlist"].opa: unknown field "version"');
      assertOk(v.validate(AUTHCONFIG));
    });

    it("rejects an unknown field in a Deployment's container", () => {
      const m = clone(DEPLOYMENT) as { spec: { template: { spec: { containers: Record<string, unknown>[] } } } };
      m.spec.template.spec.containers[0].imagePullPolicyy = "Always";
      assertError(v.validate(m as Manifest), 'spec.template.spec.containers[0]: unknown field "imagePullPolicyy"');
    });

    it("treats networking.istio.io/v1beta1 as an error exactly when the Istio CRD marks it deprecated", () => {
      const crdFile = path.join(defaultSchemaDir(), "istio", "crd-all.gen.yaml");
      const crd = docs(fs.readFileSync(crdFile, "utf8")).find(
        (d) => (d.spec as { names?: { kind?: string }; group?: string } | undefined)?.names?.kind === "ServiceEntry",
      ) as { spec: { versions: { name: string; deprecated?: boolean }[] } } | undefined;
      assert.ok(crd, "ServiceEntry CRD not found in istio/crd-all.gen.yaml");
      const deprecated = crd.spec.versions.find((x) => x.name === "v1beta1")?.deprecated === true;
      const check = v.validate({ ...clone(SERVICEENTRY), apiVersion: "networking.istio.io/v1beta1" });
      if (deprecated) assertError(check, "deprecated");
      else {
        // Istio 1.30.3 still serves v1beta1 without deprecating it: legal, but the project renders v1.
        assertOk(check);
        assert.ok(check.warnings.some((w) => w.includes("networking.istio.io/v1")), check.warnings.join("\n"));
      }
    });

    it("rejects the deprecated policies.kyverno.io/v1alpha1 ValidatingPolicy", () => {
      assertError(
        v.validate({ ...clone(VALIDATINGPOLICY), apiVersion: "policies.kyverno.io/v1alpha1" }),
        "version v1alpha1 is deprecated",
        "render policies.kyverno.io/v1",
      );
    });

    it("rejects a deprecated version with the CRD's own deprecation text", () => {
      const check = v.validate({ apiVersion: "mcp.kuadrant.io/v1alpha1", kind: "MCPVirtualServer", metadata: { name: "x" }, spec: { tools: ["a"] } });
      assertError(check, "mcp.kuadrant.io/v1alpha1 MCPVirtualServer is deprecated; migrate to mcp.kuadrant.io/v1");
    });

    it("rejects a version the CRD does not serve", () => {
      const check = v.validate({ apiVersion: "gateway.networking.k8s.io/v1alpha3", kind: "BackendTLSPolicy", metadata: { name: "x" } });
      assertError(check, "version v1alpha3 is not served");
    });

    it("rejects an unknown kind instead of skipping it", () => {
      assertError(v.validate({ apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w" } }), "no schema for example.com/v1 Widget");
      assertError(v.validate({ apiVersion: "batch/v1", kind: "Job", metadata: { name: "j" } }), "no schema for batch/v1 Job");
    });

    it("rejects a version a known CRD does not have", () => {
      assertError(v.validate({ ...clone(SAIL_ISTIO), apiVersion: "sailoperator.io/v2" }), "no schema for sailoperator.io/v2 Istio", "has versions v1");
    });

    it("rejects a manifest without apiVersion or kind without throwing", () => {
      assertError(v.validate({ metadata: { name: "x" } }), "apiVersion");
    });

    it("rejects unknown top-level fields even where the CRD omits apiVersion/kind/metadata (Istio)", () => {
      assertError(v.validate({ ...clone(SIDECAR), specs: {} }), '(root): unknown field "specs"');
    });

    it("checks metadata against ObjectMeta", () => {
      assertError(v.validate({ ...clone(SIDECAR), metadata: { name: "default", lables: { a: "b" } } }), 'metadata: unknown field "lables"');
      assertError(v.validate({ ...clone(KATACONFIG), metadata: { name: "k", labels: { replicas: 3 } } }), "metadata.labels.replicas: must be string");
    });

    it("checks enums", () => {
      const m = clone(SIDECAR) as { spec: { outboundTrafficPolicy: { mode: string } } };
      m.spec.outboundTrafficPolicy.mode = "DENY";
      assertError(v.validate(m as Manifest), 'spec.outboundTrafficPolicy.mode: must be one of ["REGISTRY_ONLY","ALLOW_ANY"]');
    });

    it("checks Cilium's endpointSelector/nodeSelector oneOf both ways", () => {
      const neither = clone(CILIUMNETWORKPOLICY) as { spec: Record<string, unknown> };
      delete neither.spec.endpointSelector;
      assertError(v.validate(neither as Manifest), "spec: must match exactly one of: {endpointSelector} | {nodeSelector}");
      const both = clone(CILIUMNETWORKPOLICY) as { spec: Record<string, unknown> };
      both.spec.nodeSelector = {};
      assertError(v.validate(both as Manifest), "it matches alternatives 1 and 2");
    });

    it("allows null where the schema is nullable (KataConfig kataConfigPoolSelector)", () => {
      assertOk(v.validate({ ...clone(KATACONFIG), spec: { checkNodeEligibility: false, kataConfigPoolSelector: null } }));
      assertError(v.validate({ ...clone(KATACONFIG), spec: { checkNodeEligibility: null } }), "spec.checkNodeEligibility: must be boolean");
    });

    it("accepts integers and strings for int-or-string, and still checks the quantity pattern", () => {
      const withLimits = (cpu: unknown): Manifest => ({
        ...clone(SUBSCRIPTION),
        spec: { ...clone(SUBSCRIPTION.spec as object), config: { resources: { limits: { cpu } } } },
      });
      assertOk(v.validate(withLimits(1)));
      assertOk(v.validate(withLimits("500m")));
      assertError(v.validate(withLimits("lots")), "spec.config.resources.limits.cpu");
      assertError(v.validate(withLimits(true)), "must be integer or string");
      const d = clone(DEPLOYMENT) as { spec: { strategy: { rollingUpdate: Record<string, unknown> } } };
      d.spec.strategy.rollingUpdate.maxSurge = false;
      assertError(v.validate(d as Manifest), "spec.strategy.rollingUpdate.maxSurge: must be integer or string");
    });

    it("allows any fields under x-kubernetes-preserve-unknown-fields but not next to it", () => {
      const values = (extra: Record<string, unknown>): Manifest => {
        const m = clone(SAIL_ISTIO) as { spec: { values: Record<string, unknown> } };
        Object.assign(m.spec.values, extra);
        return m as Manifest;
      };
      assertOk(v.validate(values({ experimental: { anything: { nested: [1, "two"] } } })));
      assertError(v.validate(values({ pilotx: {} })), 'spec.values: unknown field "pilotx"');
    });

    it("checks formats (int32 range, ip addresses) and x-kubernetes-list-type map keys", () => {
      assertError(v.validate({ ...clone(DEPLOYMENT), spec: { ...clone(DEPLOYMENT.spec as object), replicas: 2 ** 31 } }), "spec.replicas", "int32");
      const gw = clone(GATEWAY) as { spec: Record<string, unknown> & { listeners: Record<string, unknown>[] } };
      gw.spec.addresses = [{ type: "IPAddress", value: "10.0.0.1" }];
      assertOk(v.validate(gw as Manifest));
      gw.spec.addresses = [{ type: "IPAddress", value: "not-an-ip" }];
      assertError(v.validate(gw as Manifest), "spec.addresses[0]: must match exactly one of");
      gw.spec.addresses = [];
      gw.spec.listeners[1].name = "mcp";
      assertError(v.validate(gw as Manifest), 'spec.listeners[1]: duplicate entry name="mcp"');
    });
  });

  describe("Patch kinds", () => {
    it("accepts a DeploymentPatch that sets only a few fields", () => {
      assertOk(v.validate(DEPLOYMENT_PATCH));
    });

    it("still checks types and unknown fields in a Patch", () => {
      // The Kubernetes OpenAPI files carry no enums (they are only in descriptions); CRD enums are
      // checked in patches below.
      const m = clone(DEPLOYMENT_PATCH) as { spec: { template: { spec: { containers: Record<string, unknown>[] } } } };
      m.spec.template.spec.containers[0].ports = [{ containerPort: "8080" }];
      m.spec.template.spec.containers[0].envv = [];
      assertError(v.validate(m as Manifest), "spec.template.spec.containers[0].ports[0].containerPort: must be integer", 'unknown field "envv"');
    });

    it("requires metadata.name in a Patch", () => {
      assertError(v.validate({ apiVersion: "v1", kind: "NodePatch", metadata: { labels: { a: "b" } } }), "a Patch must set metadata.name");
      assertOk(v.validate({ apiVersion: "v1", kind: "NodePatch", metadata: { name: "worker-0", labels: { "node-role.kubernetes.io/kata-oc": "" } } }));
    });

    it("validates a CustomResourcePatch (kind IstioPatch, or kind Istio with { patch: true }) against the CRD without required", () => {
      const patch = { apiVersion: "sailoperator.io/v1", kind: "IstioPatch", metadata: { name: "default" }, spec: { values: { pilot: { env: { A: "b" } } } } };
      assertOk(v.validate(patch));
      assertOk(v.validate({ ...patch, kind: "Istio" }, { patch: true }));
      assertOk(v.validate(patch, { patch: true }));
      assertError(v.validate({ ...patch, kind: "Istio" }), 'spec: missing required field "version"');
      assertError(v.validate({ ...patch, spec: { version: "v0.1" } }), "spec.version: must be one of");
    });

    it("does not apply presence-only oneOf rules to a Patch", () => {
      assertOk(v.validate({ apiVersion: "cilium.io/v2", kind: "CiliumNetworkPolicyPatch", metadata: { name: "agent-egress" }, spec: { egress: [] } }));
    });
  });

  describe("RE2 patterns", () => {
    it("translates \\PC, (?i), POSIX classes, \\z, \\Q...\\E and literal braces", () => {
      assert.deepStrictEqual(translateRe2("^\\PC*$"), { source: "^\\P{C}*$", flags: "" });
      assert.deepStrictEqual(translateRe2("^(?i)https?://[^\\s?#]+$"), { source: "^https?://[^\\s?#]+$", flags: "i" });
      assert.deepStrictEqual(translateRe2("^[[:alpha:]][[:alnum:]_]*\\z"), { source: "^[A-Za-z][0-9A-Za-z_]*(?![\\s\\S])", flags: "" });
      assert.deepStrictEqual(translateRe2("\\pL\\p{Greek}\\p{^Lu}"), { source: "\\p{L}\\p{Script=Greek}\\P{Lu}", flags: "" });
      assert.ok(re2RegExp("^\\Q*.example.com\\E$").test("*.example.com"));
      assert.ok(!re2RegExp("^\\Q*.example.com\\E$").test("a.example.com"));
      assert.ok(re2RegExp("^a{,2}$").test("a{,2}"));
      assert.ok(re2RegExp("^[]a]+$").test("]a]"));
      assert.ok(re2RegExp("^\\#\\-$").test("#-"));
    });

    it("fails loudly instead of dropping a pattern it cannot translate", () => {
      assert.throws(() => translateRe2("(?U)a+"), Re2TranslationError);
      assert.throws(() => translateRe2("a(?i)b"), /only supported at the start/);
      assert.throws(() => re2RegExp("[[:^alpha:]]"), /negated POSIX class/);
    });

    it("checks the Cilium Hubble log value against ^\\PC*$ (printable characters only)", () => {
      const withLog = (value: string): Manifest => ({ ...clone(CILIUMNETWORKPOLICY), spec: { ...clone(CILIUMNETWORKPOLICY.spec as object), log: { value } } });
      assertOk(v.validate(withLog("agent-egress dénié")));
      assertError(v.validate(withLog("bell\u0007")), "spec.log.value", "^\\PC*$");
      assertError(v.validate(withLog("tab\there")), "spec.log.value");
    });

    it("checks the ZTWIM jwtIssuer against the case-insensitive ^(?i)https?://... pattern", () => {
      const server = (jwtIssuer: string): SchemaCheck => v.validate({
        apiVersion: "operator.openshift.io/v1alpha1", kind: "SpireServerPatch", metadata: { name: "cluster" }, spec: { jwtIssuer },
      });
      assertOk(server("HTTPS://oidc.Example.com"));
      assertError(server("ftp://oidc.example.com"), "spec.jwtIssuer", "does not match the pattern ^(?i)https?://");
    });
  });

  describe("performance", () => {
    it("validates 200 resources well under a second once their schemas are compiled", () => {
      const batch = Array.from({ length: 200 }, (_, i) => EXAMPLES[i % EXAMPLES.length]);
      for (const m of EXAMPLES) v.validate(m);
      const start = process.hrtime.bigint();
      for (const m of batch) assert.ok(v.validate(m).ok);
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      assert.ok(ms < 1000, `200 validations took ${ms.toFixed(1)} ms`);
    });
  });
});
