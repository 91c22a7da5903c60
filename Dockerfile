# The fencelab image: one executable jar on a Java 17 runtime; every member of the Kubernetes manifests
# (deploy/kubernetes/) runs it. Build from the repository root:
#   docker build -t REGISTRY/fencelab:TAG .
# The first stage builds the jar with Maven (dependencies from Maven Central); the runtime stage holds only the JRE,
# the jar and the `fencelab` command.
FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY pom.xml ./
COPY protocol protocol
COPY node node
COPY coordinator coordinator
COPY deploy deploy
COPY testkit testkit
COPY it-tests it-tests
COPY scenarios scenarios
RUN mvn -B -q -DskipTests -pl deploy -am package

FROM eclipse-temurin:17-jre
RUN useradd --system --uid 10001 --home-dir /var/lib/fencelab --create-home fencelab
COPY --from=build /src/deploy/target/fencelab.jar /opt/fencelab/fencelab.jar
RUN printf '#!/bin/sh\nexec java $FENCELAB_JAVA_OPTS -jar /opt/fencelab/fencelab.jar "$@"\n' > /usr/local/bin/fencelab \
 && chmod 0755 /usr/local/bin/fencelab
USER 10001
WORKDIR /var/lib/fencelab
# Artery (remoting), Pekko Management (bootstrap contact point, probes), the coordinator's HTTP API
EXPOSE 25520 7626 8560
ENV FENCELAB_JAVA_OPTS="-XX:MaxRAMPercentage=75"
ENTRYPOINT ["fencelab"]
CMD ["--help"]
