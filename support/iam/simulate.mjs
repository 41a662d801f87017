// Evaluates a batch of IAM requests with @cloud-copilot/iam-simulate (AGPL-3.0-or-later: a test-time
// tool only, never bundled or deployed). One process for the whole batch: Node starts once.
// stdin: JSON list of simulations; stdout: JSON list of {result, errors?}, in the same order.
import { runSimulation } from '@cloud-copilot/iam-simulate'

const chunks = []
for await (const chunk of process.stdin) chunks.push(chunk)
const simulations = JSON.parse(Buffer.concat(chunks).toString('utf8'))

const answers = await Promise.all(
  simulations.map(async (simulation) => {
    const response = await runSimulation(
      { serviceControlPolicies: [], resourceControlPolicies: [], identityPolicies: [], ...simulation },
      { simulationMode: 'Strict' }
    )
    if (response.resultType === 'error') {
      return { result: 'Error', errors: response.errors }
    }
    // A wildcard resource is never simulated: every edge names one concrete ARN.
    const ignored = response.resultType === 'single' ? response.result.ignoredContextKeys ?? [] : []
    return { result: response.overallResult, ignoredContextKeys: ignored }
  })
)
process.stdout.write(JSON.stringify(answers))
