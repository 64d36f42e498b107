export { fetchMe, login, logout, register, verifyEmail } from "./api/auth";
export { AuthCard } from "./components/auth-card";
export { LoginForm } from "./components/login-form";
export { RegisterForm } from "./components/register-form";
export { VerifyEmail } from "./components/verify-email";
