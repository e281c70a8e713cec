/**
 * A local osls plugin: the REST API stage's throttling (throttleRate, throttleBurst), which osls
 * has no option for. osls creates the REST API's stage through its AWS::ApiGateway::Deployment
 * (StageName), whose logical id changes with every package, so `resources.extensions` cannot
 * name it; this sets the deployment's StageDescription once the events are compiled. The values
 * come from `custom.restApiStageThrottle` (scripts/serverless/front-door.js `restApiStage`); with
 * another front door there is no deployment and nothing to do. Offline: it only edits the
 * template. Never packaged.
 */
'use strict';

class RestApiStageThrottle {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'after:package:compileEvents': () => this.apply() };
  }

  apply() {
    const settings = this.serverless.service.custom?.restApiStageThrottle;
    const resources = this.serverless.service.provider.compiledCloudFormationTemplate.Resources;
    const deployments = Object.values(resources).filter((r) => r.Type === 'AWS::ApiGateway::Deployment');
    if (!settings || Object.keys(settings).length === 0) return;
    if (deployments.length !== 1) {
      throw new Error(
        `rest-api-stage: expected the REST API's one AWS::ApiGateway::Deployment, found ${deployments.length}`,
      );
    }
    deployments[0].Properties.StageDescription = { ...deployments[0].Properties.StageDescription, ...settings };
  }
}

module.exports = RestApiStageThrottle;
