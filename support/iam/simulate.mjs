// Evaluates a batch of IAM requests with @cloud-copilot/iam-simulate (AGPL-3.0-or-later: a test-time
// tool only, never bundled or deployed). One process for the whole batch: Node starts once.
// stdin: JSON list of simulations; stdout: JSON list of {result, errors?, ignoredContextKeys}, in order.
import { runSimulation } from '@cloud-copilot/iam-simulate'
import { loadPolicy } from '@cloud-copilot/iam-policy'

// The engine's own core, for the one case below (its runUnsafeSimulation loads a resource policy
// without the name the core reads, and throws). Same pinned package, no code of ours in the decision.
const engineRoot = new URL('.', import.meta.resolve('@cloud-copilot/iam-simulate'))
const { authorize } = await import(new URL('core_engine/CoreSimulatorEngine.js', engineRoot))
const { AwsRequestImpl } = await import(new URL('request/request.js', engineRoot))
const { RequestContextImpl } = await import(new URL('requestContext.js', engineRoot))
const { DiscoveryContextKeyConstraints } = await import(new URL('context_keys/discoveryContextKeyConstraints.js', engineRoot))

function evaluateWithFullContext(simulation) {
  const { request } = simulation
  const analysis = authorize({
    request: new AwsRequestImpl(request.principal, request.resource, request.action, new RequestContextImpl(request.contextVariables)),
    sessionPolicy: undefined,
    identityPolicies: simulation.identityPolicies.map((p) => loadPolicy(p.policy, { name: p.name })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: simulation.resourcePolicy ? loadPolicy(simulation.resourcePolicy, { name: 'ResourcePolicy' }) : undefined,
    permissionBoundaries: undefined,
    vpcEndpointPolicies: undefined,
    simulationParameters: { simulationMode: 'Strict', discoveryContextKeyConstraints: new DiscoveryContextKeyConstraints([]) },
    serviceSettings: { s3: {} }
  })
  return analysis.result
}

// iam-simulate 0.1.173 matches variable condition keys only when the variable follows a '/'
// (aws:PrincipalTag/x): it drops kms:EncryptionContext:<key> from the request although KMS documents
// it for Encrypt/Decrypt/GenerateDataKey. For those requests only, after the validated run has checked
// the policies and the action, the engine's core evaluates the request with its context intact.
const COLON_VARIABLE_KEYS = ['kms:encryptioncontext:']
// It also drops the keys of GitHub's OIDC token (token.actions.githubusercontent.com:sub / :aud), which
// IAM documents for AssumeRoleWithWebIdentity with an OIDC provider (`<provider host>:<claim>`) but its
// condition key data does not list: every web identity request would come out ImplicitlyDenied.
const OIDC_KEYS = ['token.actions.githubusercontent.com:sub', 'token.actions.githubusercontent.com:aud']
const RECOVERED = (key) => COLON_VARIABLE_KEYS.some((p) => key.toLowerCase().startsWith(p)) || OIDC_KEYS.includes(key.toLowerCase())

const chunks = []
for await (const chunk of process.stdin) chunks.push(chunk)
const simulations = JSON.parse(Buffer.concat(chunks).toString('utf8'))

const answers = await Promise.all(
  simulations.map(async (input) => {
    // `engineOnly`: iam-simulate's own answer, nothing recovered (a test shows what it drops).
    const { engineOnly, ...rest } = input
    const simulation = { serviceControlPolicies: [], resourceControlPolicies: [], identityPolicies: [], ...rest }
    const response = await runSimulation(simulation, { simulationMode: 'Strict' })
    if (response.resultType === 'error') {
      return { result: 'Error', errors: response.errors }
    }
    const ignored = response.resultType === 'single' ? response.result.ignoredContextKeys ?? [] : []
    const recoverable = engineOnly ? [] : ignored.filter(RECOVERED)
    if (recoverable.length > 0) {
      const result = evaluateWithFullContext(simulation)
      return { result, ignoredContextKeys: ignored.filter((key) => !recoverable.includes(key)) }
    }
    return { result: response.overallResult, ignoredContextKeys: ignored }
  })
)
process.stdout.write(JSON.stringify(answers))
