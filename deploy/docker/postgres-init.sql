-- One database per service; each service owns its own and never reads another's.
CREATE DATABASE onboarding;
CREATE DATABASE dealreg;
CREATE DATABASE sellthrough;
CREATE DATABASE incentives;
CREATE DATABASE analytics;
